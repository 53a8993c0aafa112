// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Text;

namespace ActorTcp.Sessions;

/// <summary>
/// Server-wide counters for STATS. Connections, closes and lingering sockets are written by the listener alone;
/// bytes and requests by the sessions, once per read they handle, not per byte or per request. Every counter is
/// read without a lock: a STATS line is a near-instant snapshot, not a transaction.
/// </summary>
internal sealed class ServerStats(string version, DateTimeOffset startedAt)
{
    private readonly long[] _closed = new long[CloseReasons.All.Length];
    private long _connections;
    private long _accepted;
    private long _rejected;
    private long _lingering;
    private long _requests;
    private long _bytesIn;
    private long _bytesOut;

    public string Version { get; } = version;

    public long Connections => Interlocked.Read(ref _connections);
    public long Accepted => Interlocked.Read(ref _accepted);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long Lingering => Interlocked.Read(ref _lingering);
    public long Requests => Interlocked.Read(ref _requests);
    public long BytesIn => Interlocked.Read(ref _bytesIn);
    public long BytesOut => Interlocked.Read(ref _bytesOut);

    public long Closed(CloseReason reason) => Interlocked.Read(ref _closed[(int)reason]);

    public void ConnectionOpened()
    {
        Interlocked.Increment(ref _accepted);
        Interlocked.Increment(ref _connections);
    }

    public void ConnectionEnded(CloseReason reason)
    {
        Interlocked.Decrement(ref _connections);
        Interlocked.Increment(ref _closed[(int)reason]);
    }

    public void ConnectionRefused(CloseReason reason)
    {
        Interlocked.Increment(ref _rejected);
        Interlocked.Increment(ref _closed[(int)reason]);
    }

    public void SetLingering(int count) => Interlocked.Exchange(ref _lingering, count);

    public void AddRequests(int count) => Interlocked.Add(ref _requests, count);

    public void AddBytesIn(int count) => Interlocked.Add(ref _bytesIn, count);

    public void AddBytesOut(int count) => Interlocked.Add(ref _bytesOut, count);

    /// <summary>
    /// The STATS reply: <c>OK key=value ...</c>, with the cluster keys of <paramref name="cluster"/>, or those of a
    /// server alone when it is null (this server's own connections, one member, one answer).
    /// </summary>
    public string Format(DateTimeOffset now, int downloads, ClusterSummary? cluster = null)
    {
        var connections = Connections;
        var line = new StringBuilder(560)
            .Append("OK version=").Append(Version)
            .Append(" connections=").Append(connections)
            .Append(" accepted=").Append(Accepted)
            .Append(" rejected=").Append(Rejected)
            .Append(" downloads=").Append(downloads)
            .Append(" bytes_in=").Append(BytesIn)
            .Append(" bytes_out=").Append(BytesOut)
            .Append(" uptime_s=").Append((long)Math.Max(0, (now - startedAt).TotalSeconds))
            .Append(" requests=").Append(Requests)
            .Append(" lingering=").Append(Lingering);
        foreach (var reason in CloseReasons.All)
            line.Append(' ').Append(CloseReasons.StatsKey(reason)).Append('=').Append(Closed(reason));
        line.Append(" node=").Append(cluster?.Node ?? "standalone")
            .Append(" members=").Append(cluster?.Members ?? 1)
            .Append(" cluster_connections=").Append(cluster?.ClusterConnections ?? connections)
            .Append(" cluster_answered=").Append(cluster?.Answered ?? 1);
        return line.ToString();
    }
}
