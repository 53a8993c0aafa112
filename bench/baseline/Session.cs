using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace ActorTcp.Baseline;

internal sealed class TextConnectionHandler(BaselineSettings settings) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) =>
        new Session(connection.Transport, settings, binary: false).RunAsync();
}

internal sealed class BinaryConnectionHandler(BaselineSettings settings) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) =>
        new Session(connection.Transport, settings, binary: true).RunAsync();
}

/// <summary>
/// One client: the name dialog, then PING, HEARTBEAT, ECHO, GET and QUIT/EXIT; everything else is
/// answered with the protocol's unknown-command error. No idle timeout, no connection limit.
/// </summary>
internal sealed class Session(IDuplexPipe transport, BaselineSettings settings, bool binary)
{
    private const int MaxLineBytes = 4096;
    private const int MaxFrameBytes = 65536;
    private const int FileChunkBytes = 65536;

    private static readonly byte[] Lf = "\n"u8.ToArray();
    private static readonly byte[] CrLf = "\r\n"u8.ToArray();

    private readonly PipeReader _input = transport.Input;
    private readonly PipeWriter _output = transport.Output;
    private string? _name;
    private bool _discardingLongLine;
    private long _skipFrameBytes;

    private enum Outcome { Continue, Close }

    public async Task RunAsync()
    {
        try
        {
            WriteLine("Welcome!");
            WriteLine("What's your name?");
            await _output.FlushAsync();
            while (true)
            {
                var read = await _input.ReadAsync();
                var buffer = read.Buffer;
                var (outcome, download) = binary ? ReadFrames(ref buffer) : ReadLines(ref buffer, read.IsCompleted);
                if (download is null)
                {
                    _input.AdvanceTo(buffer.Start, buffer.End);
                }
                else
                {
                    // Leave the requests behind the GET unexamined, so the next read returns them at once.
                    _input.AdvanceTo(buffer.Start);
                }
                if (download is not null)
                {
                    // Answer what came before the GET, then stream the file; requests behind it wait in the pipe.
                    await _output.FlushAsync();
                    await StreamFileAsync(download.Value);
                    if (outcome == Outcome.Continue)
                    {
                        // Pipelined requests already in the buffer are read on the next turn.
                        continue;
                    }
                }
                var flush = await _output.FlushAsync();
                if (outcome == Outcome.Close || read.IsCompleted || flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ConnectionResetException)
        {
        }
        catch (IOException)
        {
        }
        finally
        {
            await _input.CompleteAsync();
            await _output.CompleteAsync();
        }
    }

    private (Outcome, FileRange?) ReadLines(ref ReadOnlySequence<byte> buffer, bool atEnd)
    {
        while (true)
        {
            var reader = new SequenceReader<byte>(buffer);
            if (!reader.TryReadTo(out ReadOnlySequence<byte> line, (byte)'\n'))
            {
                if (buffer.Length > MaxLineBytes)
                {
                    if (!_discardingLongLine)
                    {
                        WriteLine($"ERR line too long (max {MaxLineBytes} bytes)");
                        AfterDialogError();
                        _discardingLongLine = true;
                    }
                    buffer = buffer.Slice(buffer.End);
                }
                else if (atEnd && buffer.Length > 0 && !_discardingLongLine)
                {
                    // A last line ended by the client's close is still a request.
                    var last = buffer;
                    buffer = buffer.Slice(buffer.End);
                    var (outcome, download) = Handle(TrimCr(last.ToArray()));
                    return (outcome == Outcome.Continue ? Outcome.Close : outcome, download);
                }
                return (Outcome.Continue, null);
            }
            buffer = buffer.Slice(reader.Position);
            if (_discardingLongLine)
            {
                _discardingLongLine = false;
                continue;
            }
            if (line.Length > MaxLineBytes)
            {
                WriteLine($"ERR line too long (max {MaxLineBytes} bytes)");
                AfterDialogError();
                continue;
            }
            var (result, file) = Handle(TrimCr(line.ToArray()));
            if (result == Outcome.Close || file is not null)
            {
                return (result, file);
            }
        }
    }

    private (Outcome, FileRange?) ReadFrames(ref ReadOnlySequence<byte> buffer)
    {
        while (true)
        {
            if (_skipFrameBytes > 0)
            {
                var skip = Math.Min(_skipFrameBytes, buffer.Length);
                buffer = buffer.Slice(skip);
                _skipFrameBytes -= skip;
                if (_skipFrameBytes > 0)
                {
                    return (Outcome.Continue, null);
                }
            }
            if (buffer.Length < 4)
            {
                return (Outcome.Continue, null);
            }
            var length = ReadLength(buffer);
            if (length > MaxFrameBytes)
            {
                WriteLine($"ERR frame too long (max {MaxFrameBytes} bytes)");
                AfterDialogError();
                buffer = buffer.Slice(4);
                _skipFrameBytes = length;
                continue;
            }
            if (buffer.Length < 4 + length)
            {
                return (Outcome.Continue, null);
            }
            var payload = buffer.Slice(4, length).ToArray();
            buffer = buffer.Slice(4 + length);
            var (result, file) = Handle(payload);
            if (result == Outcome.Close || file is not null)
            {
                return (result, file);
            }
        }
    }

    private static uint ReadLength(ReadOnlySequence<byte> buffer)
    {
        Span<byte> header = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(header);
        return BinaryPrimitives.ReadUInt32BigEndian(header);
    }

    private static byte[] TrimCr(byte[] line) =>
        line.Length > 0 && line[^1] == (byte)'\r' ? line[..^1] : line;

    private (Outcome, FileRange?) Handle(byte[] raw)
    {
        var line = Encoding.UTF8.GetString(raw);
        var trimmed = line.Trim(' ', '\t');
        var split = trimmed.IndexOfAny([' ', '\t']);
        var verb = split < 0 ? trimmed : trimmed[..split];

        if (verb.Equals("quit", StringComparison.OrdinalIgnoreCase) || verb.Equals("exit", StringComparison.OrdinalIgnoreCase))
        {
            if (_name is not null || split < 0)
            {
                WriteLine("Goodbye!");
                return (Outcome.Close, null);
            }
        }
        if (verb.Equals("PING", StringComparison.OrdinalIgnoreCase))
        {
            WriteLine("PONG");
            return (Outcome.Continue, null);
        }
        if (verb.Equals("HEARTBEAT", StringComparison.OrdinalIgnoreCase))
        {
            return (Outcome.Continue, null);
        }
        if (_name is null)
        {
            return (AwaitingName(trimmed), null);
        }
        if (trimmed.Length == 0)
        {
            return (Outcome.Continue, null);
        }
        if (verb.Equals("ECHO", StringComparison.OrdinalIgnoreCase))
        {
            // Everything after the first space or tab, unchanged.
            var start = line.TrimStart(' ', '\t');
            var cut = start.IndexOfAny([' ', '\t']);
            WriteLine(cut < 0 ? "" : start[(cut + 1)..]);
            return (Outcome.Continue, null);
        }
        if (verb.Equals("GET", StringComparison.OrdinalIgnoreCase))
        {
            return (Outcome.Continue, Get(split < 0 ? [] : trimmed[(split + 1)..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)));
        }
        WriteLine($"ERR unknown command: {verb} (try HELP)");
        return (Outcome.Continue, null);
    }

    private Outcome AwaitingName(string candidate)
    {
        if (candidate.Length == 0)
        {
            WriteLine("What's your name?");
            return Outcome.Continue;
        }
        var name = candidate.Normalize(NormalizationForm.FormC);
        if (name.Length > 32 || !name.All(c => char.IsLetterOrDigit(c) || c is '_' or '-' or '.'))
        {
            WriteLine("ERR invalid name: letters, digits, _ - . only, 1 to 32");
            WriteLine("What's your name?");
            return Outcome.Continue;
        }
        _name = name;
        WriteLine($"Hello {name}!");
        return Outcome.Continue;
    }

    private void AfterDialogError()
    {
        if (_name is null)
        {
            WriteLine("What's your name?");
        }
    }

    private FileRange? Get(string[] arguments)
    {
        if (arguments.Length is 0 or > 3)
        {
            WriteLine("ERR usage: GET <path> [<offset> [<length>]]");
            return null;
        }
        var path = arguments[0];
        var segments = path.Split('/');
        if (Path.IsPathRooted(path) || segments.Any(s => s == ".."))
        {
            WriteLine($"ERR forbidden: {path}");
            return null;
        }
        if (segments.Any(s => s.StartsWith('.')))
        {
            WriteLine($"ERR forbidden: {path}");
            return null;
        }
        var full = Path.Combine(settings.FilesRoot, path);
        var info = new FileInfo(full);
        if (!info.Exists)
        {
            WriteLine($"ERR not found: {path}");
            return null;
        }
        long offset = 0;
        if (arguments.Length > 1 && (!long.TryParse(arguments[1], out offset) || offset < 0 || offset > info.Length))
        {
            WriteLine("ERR bad range");
            return null;
        }
        var length = info.Length - offset;
        if (arguments.Length > 2 && (!long.TryParse(arguments[2], out length) || length < 0 || offset + length > info.Length))
        {
            WriteLine("ERR bad range");
            return null;
        }
        WriteLine($"OK {length}");
        return new FileRange(full, offset, length);
    }

    private async Task StreamFileAsync(FileRange range)
    {
        if (range.Length == 0)
        {
            return;
        }
        await using var file = new FileStream(range.Path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.Asynchronous);
        file.Position = range.Offset;
        var remaining = range.Length;
        while (remaining > 0)
        {
            var chunk = (int)Math.Min(FileChunkBytes, remaining);
            var memory = _output.GetMemory(chunk + 4);
            var target = binary ? memory.Slice(4, chunk) : memory[..chunk];
            var read = await file.ReadAsync(target);
            if (read == 0)
            {
                throw new IOException("file shrank while being served");
            }
            if (binary)
            {
                BinaryPrimitives.WriteUInt32BigEndian(memory.Span, (uint)read);
            }
            _output.Advance(binary ? read + 4 : read);
            remaining -= read;
            // Waiting for each flush keeps a slow reader from making this session buffer the whole file.
            var flush = await _output.FlushAsync();
            if (flush.IsCompleted)
            {
                return;
            }
        }
    }

    private void WriteLine(string text)
    {
        var count = Encoding.UTF8.GetByteCount(text);
        if (binary)
        {
            var span = _output.GetSpan(count + 4);
            BinaryPrimitives.WriteUInt32BigEndian(span, (uint)count);
            Encoding.UTF8.GetBytes(text, span[4..]);
            _output.Advance(count + 4);
        }
        else
        {
            var end = settings.CrLf ? CrLf : Lf;
            var span = _output.GetSpan(count + end.Length);
            var written = Encoding.UTF8.GetBytes(text, span);
            end.CopyTo(span[written..]);
            _output.Advance(written + end.Length);
        }
    }

    private readonly record struct FileRange(string Path, long Offset, long Length);
}
