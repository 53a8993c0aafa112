using System.Text;

namespace ActorTcp.Sessions;

/// <summary>
/// Server-wide counters for STATS. Written from many sessions at once, so every counter is updated with
/// Interlocked and read without a lock: a STATS line is a near-instant snapshot, not a transaction.
/// </summary>
public sealed class ServerStats(string version, DateTimeOffset startedAt)
{
    private readonly long[] _closed = new long[CloseReasons.All.Length];
    private long _connections;
    private long _accepted;
    private long _rejected;
    private long _downloads;
    private long _bytesIn;
    private long _bytesOut;

    public string Version { get; } = version;

    public long Connections => Interlocked.Read(ref _connections);
    public long Accepted => Interlocked.Read(ref _accepted);
    public long Rejected => Interlocked.Read(ref _rejected);
    public long Downloads => Interlocked.Read(ref _downloads);
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

    /// <summary>Reserves a download slot if fewer than <paramref name="max"/> are running.</summary>
    public bool TryStartDownload(int max)
    {
        while (true)
        {
            var now = Interlocked.Read(ref _downloads);
            if (now >= max) return false;
            if (Interlocked.CompareExchange(ref _downloads, now + 1, now) == now) return true;
        }
    }

    public void DownloadEnded() => Interlocked.Decrement(ref _downloads);

    public void AddBytesIn(int count) => Interlocked.Add(ref _bytesIn, count);

    public void AddBytesOut(int count) => Interlocked.Add(ref _bytesOut, count);

    /// <summary>The STATS reply: <c>OK key=value ...</c>.</summary>
    public string Format(DateTimeOffset now)
    {
        var line = new StringBuilder(400)
            .Append("OK version=").Append(Version)
            .Append(" connections=").Append(Connections)
            .Append(" accepted=").Append(Accepted)
            .Append(" rejected=").Append(Rejected)
            .Append(" downloads=").Append(Downloads)
            .Append(" bytes_in=").Append(BytesIn)
            .Append(" bytes_out=").Append(BytesOut)
            .Append(" uptime_s=").Append((long)Math.Max(0, (now - startedAt).TotalSeconds));
        foreach (var reason in CloseReasons.All)
            line.Append(' ').Append(CloseReasons.StatsKey(reason)).Append('=').Append(Closed(reason));
        return line.ToString();
    }
}
