using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorTcp.Protocol;

namespace ActorTcp.IntegrationTests;

/// <summary>A raw TCP client on 127.0.0.1 with line and frame reads that time out instead of hanging.</summary>
public sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    // Far beyond any reply the server sends; the readers only grow towards it as bytes arrive.
    private const int MaxReplyBytes = 64 * 1024 * 1024;

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];

    // A test may read lines, frames and raw bytes from one connection in any order: each read takes exactly one unit
    // from the shared buffer, so the readers hold nothing between reads.
    private readonly ReplyReader _lines = ReplyReader.ForText(MaxReplyBytes);
    private readonly ReplyReader _frames = ReplyReader.ForBinary(MaxReplyBytes);
    private int _start;
    private int _end;

    private TestClient(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    public static Task<TestClient> ConnectAsync(int port, IPAddress? source = null) =>
        ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), source);

    public static async Task<TestClient> ConnectAsync(IPEndPoint server, IPAddress? source = null)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (source is not null) socket.Bind(new IPEndPoint(source, 0));
        using var cts = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(server, cts.Token);
        return new TestClient(socket);
    }

    /// <summary>Connects, reads the greeting, and completes the name dialog.</summary>
    public static async Task<TestClient> NamedAsync(int port, string name = "neo")
    {
        var client = await ConnectAsync(port);
        Assert.Equal(Replies.Welcome, await client.ReadLineAsync());
        Assert.Equal(Replies.AskName, await client.ReadLineAsync());
        await client.SendAsync(RequestEncoder.Text.Encode(name));
        Assert.Equal(Replies.Hello(name), await client.ReadLineAsync());
        return client;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(bytes, SocketFlags.None, cts.Token);
    }

    public async Task SendFrameAsync(string payload) => await SendAsync(RequestEncoder.Binary.Encode(payload));

    public static byte[] Frame(byte[] payload) => RequestEncoder.Binary.EncodeUtf8(payload);

    /// <summary>Reads one line (without its LF); null when the server closed first.</summary>
    public async Task<string?> ReadLineAsync() =>
        await ReadLineBytesAsync() is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>
    /// Reads one line's raw bytes (without its LF, a CR before it kept); null when the server closed first.
    /// For replies that must be checked byte for byte (U+FFFD, other encodings, CRLF).
    /// </summary>
    public Task<byte[]?> ReadLineBytesAsync() => ReadReplyAsync(_lines);

    /// <summary>Reads everything until the server closes its side (a reset surfaces as a SocketException).</summary>
    public async Task<byte[]> ReadToEndAsync()
    {
        var result = new MemoryStream();
        while (true)
        {
            if (_start == _end && !await FillAsync()) return result.ToArray();
            result.Write(_buffer, _start, _end - _start);
            _start = _end;
        }
    }

    /// <summary>Sends STATS (the client must be named) and returns its key=value pairs.</summary>
    public async Task<Dictionary<string, string>> StatsAsync()
    {
        await SendAsync(RequestEncoder.Text.Encode(Requests.Stats));
        var line = await ReadLineAsync() ?? throw new IOException("closed before the STATS reply");
        Assert.StartsWith(Replies.OkPrefix, line);
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in line[Replies.OkPrefix.Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            Assert.True(eq > 0, $"STATS item '{pair}' is not key=value in: {line}");
            Assert.True(pairs.TryAdd(pair[..eq], pair[(eq + 1)..]), $"STATS key '{pair[..eq]}' twice in: {line}");
        }
        return pairs;
    }

    /// <summary>Sends STATS until <paramref name="condition"/> holds (counters settle a moment after a close).</summary>
    public async Task<Dictionary<string, string>> StatsUntilAsync(Func<Dictionary<string, string>, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var stats = await StatsAsync();
            if (condition(stats)) return stats;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"STATS never showed {what} within {Timeout}; last: {string.Join(' ', stats.Select(p => p.Key + "=" + p.Value))}");
            await Task.Delay(20);
        }
    }

    public async Task<List<string>> ReadLinesAsync(int count)
    {
        var lines = new List<string>();
        for (var i = 0; i < count; i++) lines.Add(await ReadLineAsync() ?? throw new IOException($"closed after {lines.Count} lines"));
        return lines;
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes, or fewer if the server closes first.</summary>
    public async Task<byte[]> ReadBytesAsync(long count)
    {
        var result = new MemoryStream();
        while (result.Length < count)
        {
            if (_start == _end && !await FillAsync()) break;
            var n = (int)Math.Min(_end - _start, count - result.Length);
            result.Write(_buffer, _start, n);
            _start += n;
        }
        return result.ToArray();
    }

    /// <summary>Reads one binary frame's payload; null when the server closed first.</summary>
    public Task<byte[]?> ReadFrameAsync() => ReadReplyAsync(_frames);

    public async Task<string?> ReadFrameTextAsync() => await ReadFrameAsync() is { } p ? Encoding.UTF8.GetString(p) : null;

    /// <summary>True once the server has closed the connection (end of stream or a reset), with nothing more to read.</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        try
        {
            return _start == _end && !await FillAsync();
        }
        catch (SocketException)
        {
            return true;
        }
    }

    /// <summary>Shuts our sending side, as `nc -N` does at the end of its input.</summary>
    public void HalfClose() => _socket.Shutdown(SocketShutdown.Send);

    /// <summary>Closes with a reset (SO_LINGER 0), as a crashed client would.</summary>
    public void Reset()
    {
        _socket.LingerState = new LingerOption(true, 0);
        _socket.Close();
    }

    /// <summary>One reply line or frame; at the close, a last text line without its LF, or null.</summary>
    private async Task<byte[]?> ReadReplyAsync(ReplyReader reader)
    {
        while (true)
        {
            if (TakeReply(reader, out var reply)) return reply;
            if (!await FillAsync()) return FinishReply(reader);
        }
    }

    // False when all buffered bytes went into the reader without completing a reply. The CR of a CR LF is put back:
    // tests check reply line endings byte for byte.
    private bool TakeReply(ReplyReader reader, out byte[]? reply)
    {
        var found = reader.Read(_buffer.AsSpan(_start, _end - _start), out var consumed, out var bytes);
        _start += consumed;
        reply = found == ReplyEvent.Line ? (reader.EndedWithCrLf ? [.. bytes, (byte)'\r'] : bytes.ToArray()) : null;
        if (found == ReplyEvent.FramingError) throw new InvalidDataException($"the server's replies cannot be read: {reader.FramingErrorReason}");
        return found == ReplyEvent.Line;
    }

    private static byte[]? FinishReply(ReplyReader reader) =>
        reader.Finish(out var last) == ReplyEvent.Line ? last.ToArray() : null;

    private async Task<bool> FillAsync()
    {
        using var cts = new CancellationTokenSource(Timeout);
        int n;
        try
        {
            n = await _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None, cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no data from the server within {Timeout}");
        }
        _start = 0;
        _end = n;
        return n > 0;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
