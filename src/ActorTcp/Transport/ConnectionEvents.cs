// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;

namespace ActorTcp.Transport;

/// <summary>
/// Bytes from the client in a buffer rented from <see cref="ArrayPool{T}.Shared"/>. The receiver owns the buffer
/// and returns it to the pool once it has decoded the bytes.
/// </summary>
internal sealed class Received(byte[] buffer, int count)
{
    public byte[] Buffer { get; } = buffer;

    public int Count { get; } = count;
}

/// <summary>
/// Bytes may be waiting, and the session asked for them: it reads them in this turn with
/// <see cref="IConnection.Read"/>. Sent instead of <see cref="Received"/> by a connection that lets the session read.
/// </summary>
internal sealed class Readable
{
    public static readonly Readable Instance = new();

    private Readable() { }
}

/// <summary>The write the transport did not take at once has now been taken.</summary>
internal sealed class WriteCompleted
{
    public static readonly WriteCompleted Instance = new();

    private WriteCompleted() { }
}

/// <summary>A file sent with <see cref="IConnection.SendFile"/> ended before the bytes asked for: it is shorter now.</summary>
internal sealed class FileEnded
{
    public static readonly FileEnded Instance = new();

    private FileEnded() { }
}

/// <summary>The client closed its sending side; the connection is still writable.</summary>
internal sealed class PeerClosed
{
    public static readonly PeerClosed Instance = new();

    private PeerClosed() { }
}

/// <summary>How a connection ended, classified once at the transport.</summary>
internal enum CloseKind
{
    /// <summary>Both sides closed in order: our FIN after a half-close, and the client's.</summary>
    Graceful,
    /// <summary>The client reset the connection.</summary>
    Reset,
    /// <summary>The connection was aborted on this side (timed out, or a local error).</summary>
    Aborted,
    /// <summary>Any other socket error.</summary>
    Error,
    /// <summary>The TLS handshake failed (a plaintext client, a protocol or certificate mismatch).</summary>
    HandshakeFailed,
}

/// <summary>The connection is gone and its socket released; nothing more will arrive.</summary>
internal sealed class Closed
{
    public static readonly Closed Graceful = new(CloseKind.Graceful);
    public static readonly Closed Reset = new(CloseKind.Reset);
    public static readonly Closed Aborted = new(CloseKind.Aborted);
    public static readonly Closed Error = new(CloseKind.Error);
    public static readonly Closed HandshakeFailed = new(CloseKind.HandshakeFailed);

    private Closed(CloseKind kind) => Kind = kind;

    public CloseKind Kind { get; }

    public static Closed Of(CloseKind kind) => kind switch
    {
        CloseKind.Graceful => Graceful,
        CloseKind.Reset => Reset,
        CloseKind.Aborted => Aborted,
        CloseKind.HandshakeFailed => HandshakeFailed,
        _ => Error,
    };
}
