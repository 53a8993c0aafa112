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

/// <summary>
/// The connected names, sorted by their UTF-8 bytes, a name used twice listed twice; <paramref name="Partial"/> when a
/// cluster member did not answer in time, so that some names may be missing.
/// </summary>
internal sealed record WhoReply(IReadOnlyList<string> Names, bool Partial = false);

/// <summary>Asks the directory (the listener, or the cluster registry behind it) for the NODES lines.</summary>
internal sealed class NodesRequest
{
    public static readonly NodesRequest Instance = new();

    private NodesRequest() { }
}

/// <summary>One server of NODES: its address, its status in lower case, and its connections (null: it did not answer).</summary>
internal sealed record NodeLine(string Address, string Status, long? Connections);

/// <summary>The NODES lines, sorted by address.</summary>
internal sealed record NodesReply(IReadOnlyList<NodeLine> Nodes);

/// <summary>Asks the cluster registry for the cluster part of STATS (cluster mode only).</summary>
internal sealed class StatsRequest
{
    public static readonly StatsRequest Instance = new();

    private StatsRequest() { }
}

/// <summary>
/// The cluster keys of STATS: this node's address, the members that are up, and the connections of the members that
/// answered, this node included.
/// </summary>
internal sealed record ClusterSummary(string Node, int Members, long ClusterConnections, int Answered);

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
