namespace ActorTcp.Sessions;

/// <summary>The heartbeat supervisor found the session past one of its deadlines.</summary>
public sealed class SessionTimeout
{
    public static readonly SessionTimeout Idle = new(CloseReason.IdleTimeout, "ERR idle timeout");
    public static readonly SessionTimeout Handshake = new(CloseReason.HandshakeTimeout, "ERR handshake timeout");

    private SessionTimeout(CloseReason reason, string lastLine)
    {
        Reason = reason;
        LastLine = lastLine;
    }

    public CloseReason Reason { get; }

    public string LastLine { get; }
}

/// <summary>The server is stopping: finish the transfer in flight (if any), say so, and close.</summary>
public sealed class ServerShuttingDown
{
    public static readonly ServerShuttingDown Instance = new();

    private ServerShuttingDown() { }
}

/// <summary>drain-timeout has passed: whatever is still running is cut.</summary>
public sealed class DrainExpired
{
    public static readonly DrainExpired Instance = new();

    private DrainExpired() { }
}

/// <summary>Asks the directory (the listener) for the names of the connected clients.</summary>
public sealed class WhoRequest
{
    public static readonly WhoRequest Instance = new();

    private WhoRequest() { }
}

/// <summary>The connected names, sorted by their UTF-8 bytes, a name used twice listed twice.</summary>
public sealed record WhoReply(IReadOnlyList<string> Names);
