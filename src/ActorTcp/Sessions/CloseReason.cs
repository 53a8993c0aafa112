// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Sessions;

/// <summary>Why a connection ended; each has a <c>closed_&lt;reason&gt;</c> counter in STATS.</summary>
internal enum CloseReason
{
    /// <summary>The client closed the connection (after its last request was answered).</summary>
    PeerClosed,
    /// <summary>The client said QUIT or EXIT.</summary>
    Quit,
    IdleTimeout,
    HandshakeTimeout,
    /// <summary>Refused at accept: max-connections reached.</summary>
    ServerFull,
    /// <summary>Refused at accept: max-connections-per-ip reached.</summary>
    PerIpLimit,
    /// <summary>Told <c>ERR server shutting down</c> when the server stopped.</summary>
    Shutdown,
    /// <summary>A transfer still running when drain-timeout passed, cut.</summary>
    DrainTimeout,
    /// <summary>The connection failed under us (a reset by the client, a write error).</summary>
    Reset,
    /// <summary>A file transfer failed on the server's side (e.g. the file shrank under it).</summary>
    TransferFailed,
    /// <summary>The session actor threw; only that client was closed.</summary>
    Crash,
    /// <summary>The TLS handshake failed or had not finished within handshake-timeout; closed without a line.</summary>
    TlsFailed,
}

internal static class CloseReasons
{
    public static readonly CloseReason[] All = Enum.GetValues<CloseReason>();

    /// <summary>The reasons a client can be refused at accept for; a refused client is never counted as closed.</summary>
    public static readonly CloseReason[] Refusals = [CloseReason.ServerFull, CloseReason.PerIpLimit, CloseReason.Shutdown];

    /// <summary>The reasons an admitted client's connection can end for: every reason but the refusal-only ones.</summary>
    public static readonly CloseReason[] Ends =
        Array.FindAll(All, reason => reason is not (CloseReason.ServerFull or CloseReason.PerIpLimit));

    private static readonly string[] Labels = Array.ConvertAll(All, reason => StatsKey(reason)["closed_".Length..]);

    /// <summary>The metrics label of each reason, e.g. <c>idle_timeout</c>: the STATS key without <c>closed_</c>.</summary>
    public static string Label(CloseReason reason) => Labels[(int)reason];

    /// <summary>The STATS key of each reason, e.g. <c>closed_idle_timeout</c>.</summary>
    public static string StatsKey(CloseReason reason) => reason switch
    {
        CloseReason.PeerClosed => "closed_peer_closed",
        CloseReason.Quit => "closed_quit",
        CloseReason.IdleTimeout => "closed_idle_timeout",
        CloseReason.HandshakeTimeout => "closed_handshake_timeout",
        CloseReason.ServerFull => "closed_server_full",
        CloseReason.PerIpLimit => "closed_per_ip_limit",
        CloseReason.Shutdown => "closed_shutdown",
        CloseReason.DrainTimeout => "closed_drain_timeout",
        CloseReason.Reset => "closed_reset",
        CloseReason.TransferFailed => "closed_transfer_failed",
        CloseReason.Crash => "closed_crash",
        CloseReason.TlsFailed => "closed_tls_failed",
        _ => throw new ArgumentOutOfRangeException(nameof(reason), reason, null),
    };
}
