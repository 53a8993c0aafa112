using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>A raw TCP client on 127.0.0.1 with line and frame reads that time out instead of hanging.</summary>
public sealed class TestClient : IAsyncDisposable
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private readonly Socket _socket;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private TestClient(Socket socket) => _socket = socket;

    public Socket Socket => _socket;

    public static async Task<TestClient> ConnectAsync(int port, IPAddress? source = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (source is not null) socket.Bind(new IPEndPoint(source, 0));
        using var cts = new CancellationTokenSource(Timeout);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cts.Token);
        return new TestClient(socket);
    }

    /// <summary>Connects, reads the greeting, and completes the name dialog.</summary>
    public static async Task<TestClient> NamedAsync(int port, string name = "neo")
    {
        var client = await ConnectAsync(port);
        Assert.Equal("Welcome!", await client.ReadLineAsync());
        Assert.Equal("What's your name?", await client.ReadLineAsync());
        await client.SendAsync(name + "\n");
        Assert.Equal($"Hello {name}!", await client.ReadLineAsync());
        return client;
    }

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        using var cts = new CancellationTokenSource(Timeout);
        await _socket.SendAsync(bytes, SocketFlags.None, cts.Token);
    }

    public async Task SendFrameAsync(string payload) => await SendAsync(Frame(Encoding.UTF8.GetBytes(payload)));

    public static byte[] Frame(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }

    /// <summary>Reads one line (without its LF); null when the server closed first.</summary>
    public async Task<string?> ReadLineAsync() =>
        await ReadLineBytesAsync() is { } bytes ? Encoding.UTF8.GetString(bytes) : null;

    /// <summary>
    /// Reads one line's raw bytes (without its LF, a CR before it kept); null when the server closed first.
    /// For replies that must be checked byte for byte (U+FFFD, other encodings, CRLF).
    /// </summary>
    public async Task<byte[]?> ReadLineBytesAsync()
    {
        var bytes = new List<byte>();
        while (true)
        {
            if (_start == _end && !await FillAsync()) return bytes.Count == 0 ? null : bytes.ToArray();
            var b = _buffer[_start++];
            if (b == (byte)'\n') return bytes.ToArray();
            bytes.Add(b);
        }
    }

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
        await SendAsync("STATS\n");
        var line = await ReadLineAsync() ?? throw new IOException("closed before the STATS reply");
        Assert.StartsWith("OK ", line);
        var pairs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in line[3..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
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
    public async Task<byte[]?> ReadFrameAsync()
    {
        var header = await ReadBytesAsync(4);
        if (header.Length < 4) return null;
        var length = BinaryPrimitives.ReadUInt32BigEndian(header);
        var payload = await ReadBytesAsync(length);
        return payload.Length == length ? payload : null;
    }

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
