// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Protocol;

namespace ActorTcp.Sessions;

/// <summary>The heartbeat supervisor found the session past one of its deadlines.</summary>
internal sealed class SessionTimeout
{
    public static readonly SessionTimeout Idle = new(CloseReason.IdleTimeout, Replies.IdleTimeout);
    public static readonly SessionTimeout Handshake = new(CloseReason.HandshakeTimeout, Replies.HandshakeTimeout);

    private SessionTimeout(CloseReason reason, string lastLine)
    {
        Reason = reason;
        LastLine = lastLine;
    }

    public CloseReason Reason { get; }

    public string LastLine { get; }
}

/// <summary>The server is stopping: finish the transfer in flight (if any), say so, and close.</summary>
internal sealed class ServerShuttingDown
{
    public static readonly ServerShuttingDown Instance = new();

    private ServerShuttingDown() { }
}

/// <summary>drain-timeout has passed: whatever is still running is cut.</summary>
internal sealed class DrainExpired
{
    public static readonly DrainExpired Instance = new();

    private DrainExpired() { }
}

/// <summary>A lingering session is closed at once (a lingering bound was passed, or the drain is over).</summary>
internal sealed class CloseNow
{
    public static readonly CloseNow Instance = new();

    private CloseNow() { }
}

/// <summary>Asks the directory (the listener) for the names of the connected clients.</summary>
internal sealed class WhoRequest
{
    public static readonly WhoRequest Instance = new();

    private WhoRequest() { }
}

/// <summary>The connected names, sorted by their UTF-8 bytes, a name used twice listed twice.</summary>
internal sealed record WhoReply(IReadOnlyList<string> Names);

/// <summary>
/// To the listener: the session has said its last line and sent its FIN. It is over as a client (counted closed,
/// its place freed, its name gone from WHO); its socket lingers until the client's FIN or close-linger.
/// </summary>
internal sealed record SessionEnded(SessionTicket Ticket, CloseReason Reason);

/// <summary>
/// To the listener, from the session's last moment: its socket is released. A session that had not ended yet
/// (a reset, a crash, a cut transfer) ends now with <paramref name="Reason"/>.
/// </summary>
internal sealed record SessionStopped(SessionTicket Ticket, CloseReason Reason);
