// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Text;

namespace ActorTcp.Sessions;

/// <summary>
/// Server-wide counters for STATS and the metrics (both read these same fields). Connections, closes, refusals and
/// lingering sockets are written by the listener alone; bytes and requests by the sessions, once per read they
/// handle, not per byte or per request. Every counter is read without a lock: a STATS line or a scrape is a
/// near-instant snapshot, not a transaction.
/// </summary>
internal sealed class ServerStats(string version, DateTimeOffset startedAt)
{
    // Per listener, so the metrics can label them; STATS shows the sums.
    private readonly long[] _connections = new long[ListenerKinds.All.Length];
    private readonly long[] _accepted = new long[ListenerKinds.All.Length];
    // Admitted clients' ends and refusals apart, so the metrics never count a refused client as closed;
    // STATS's closed_<reason> shows their sum, as it always has.
    private readonly long[] _ended = new long[CloseReasons.All.Length];
    private readonly long[] _refused = new long[CloseReasons.All.Length];
    private long _lingering;
    private long _requests;
    private long _bytesIn;
    private long _bytesOut;

    public string Version { get; } = version;

    public DateTimeOffset StartedAt { get; } = startedAt;

    public long Connections => Sum(_connections);
    public long Accepted => Sum(_accepted);
    public long Rejected => Sum(_refused);
    public long Lingering => Interlocked.Read(ref _lingering);
    public long Requests => Interlocked.Read(ref _requests);
    public long BytesIn => Interlocked.Read(ref _bytesIn);
    public long BytesOut => Interlocked.Read(ref _bytesOut);

    public long ConnectionsOn(ListenerKind listener) => Interlocked.Read(ref _connections[(int)listener]);

    public long AcceptedOn(ListenerKind listener) => Interlocked.Read(ref _accepted[(int)listener]);

    /// <summary>Admitted clients whose connection ended for <paramref name="reason"/>.</summary>
    public long Ended(CloseReason reason) => Interlocked.Read(ref _ended[(int)reason]);

    /// <summary>Clients refused at accept for <paramref name="reason"/>.</summary>
    public long Refused(CloseReason reason) => Interlocked.Read(ref _refused[(int)reason]);

    /// <summary>STATS's <c>closed_&lt;reason&gt;</c>: ends and refusals together.</summary>
    public long Closed(CloseReason reason) => Ended(reason) + Refused(reason);

    public void ConnectionOpened(ListenerKind listener)
    {
        Interlocked.Increment(ref _accepted[(int)listener]);
        Interlocked.Increment(ref _connections[(int)listener]);
    }

    public void ConnectionEnded(ListenerKind listener, CloseReason reason)
    {
        Interlocked.Decrement(ref _connections[(int)listener]);
        Interlocked.Increment(ref _ended[(int)reason]);
    }

    public void ConnectionRefused(CloseReason reason) => Interlocked.Increment(ref _refused[(int)reason]);

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
        // Closes first: the listener counts a close after the connection and lingering counts it changes, so a
        // line that shows a close also shows what that close did to the others.
        Span<long> closed = stackalloc long[CloseReasons.All.Length];
        foreach (var reason in CloseReasons.All) closed[(int)reason] = Closed(reason);
        var connections = Connections;
        var line = new StringBuilder(560)
            .Append("OK version=").Append(Version)
            .Append(" connections=").Append(connections)
            .Append(" accepted=").Append(Accepted)
            .Append(" rejected=").Append(Rejected)
            .Append(" downloads=").Append(downloads)
            .Append(" bytes_in=").Append(BytesIn)
            .Append(" bytes_out=").Append(BytesOut)
            .Append(" uptime_s=").Append((long)Math.Max(0, (now - StartedAt).TotalSeconds))
            .Append(" requests=").Append(Requests)
            .Append(" lingering=").Append(Lingering);
        foreach (var reason in CloseReasons.All)
            line.Append(' ').Append(CloseReasons.StatsKey(reason)).Append('=').Append(closed[(int)reason]);
        line.Append(" node=").Append(cluster?.Node ?? "standalone")
            .Append(" members=").Append(cluster?.Members ?? 1)
            .Append(" cluster_connections=").Append(cluster?.ClusterConnections ?? connections)
            .Append(" cluster_answered=").Append(cluster?.Answered ?? 1);
        return line.ToString();
    }

    private static long Sum(long[] counts)
    {
        long sum = 0;
        for (var i = 0; i < counts.Length; i++) sum += Interlocked.Read(ref counts[i]);
        return sum;
    }
}
