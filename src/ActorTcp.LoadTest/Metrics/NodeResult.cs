// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using HdrHistogram;

namespace ActorTcp.LoadTest.Metrics;

/// <summary>A live snapshot of one process, for the live view (workers send it to the parent every 500 ms).</summary>
internal sealed record Progress
{
    public int Clients { get; init; }
    public long ClientsStarted { get; init; }
    public long ConnectsStarted { get; init; }
    public long ConnectedNow { get; init; }
    public long ReadyNow { get; init; }
    public long Settled { get; init; }
    public long ClientsFinished { get; init; }
    public long Ops { get; init; }
    public long Errors { get; init; }
    public long BytesIn { get; init; }
    public long BytesOut { get; init; }
    public Dictionary<string, long> ErrorKinds { get; init; } = [];

    /// <summary>Every client is either up (named) or already finished: the measured window can start.</summary>
    public bool AllSettled => ClientsStarted >= Clients && Settled >= Clients;

    public bool AllFinished => ClientsFinished >= Clients;

    public static Progress Sum(IEnumerable<Progress> parts)
    {
        var list = parts.ToList();
        var kinds = new Dictionary<string, long>();
        foreach (var (kind, count) in list.SelectMany(p => p.ErrorKinds))
        {
            kinds[kind] = kinds.GetValueOrDefault(kind) + count;
        }
        return new Progress
        {
            Clients = list.Sum(p => p.Clients),
            ClientsStarted = list.Sum(p => p.ClientsStarted),
            ConnectsStarted = list.Sum(p => p.ConnectsStarted),
            ConnectedNow = list.Sum(p => p.ConnectedNow),
            ReadyNow = list.Sum(p => p.ReadyNow),
            Settled = list.Sum(p => p.Settled),
            ClientsFinished = list.Sum(p => p.ClientsFinished),
            Ops = list.Sum(p => p.Ops),
            Errors = list.Sum(p => p.Errors),
            BytesIn = list.Sum(p => p.BytesIn),
            BytesOut = list.Sum(p => p.BytesOut),
            ErrorKinds = kinds,
        };
    }
}

/// <summary>One operation kind within the window: how many, and their latency in microseconds.</summary>
internal sealed record OpResult
{
    public long Count { get; init; }
    public HistogramData LatencyUs { get; init; } = new();
}

/// <summary>
/// A histogram as (value, count) pairs at HdrHistogram's bucket resolution: small, readable JSON that
/// merges exactly (each value lands back in its own bucket).
/// </summary>
internal sealed record HistogramData
{
    public List<long[]> Buckets { get; init; } = [];

    public static HistogramData From(HistogramBase histogram) => new()
    {
        Buckets = histogram.TotalCount == 0
            ? []
            : histogram.RecordedValues().Select(v => new[] { v.ValueIteratedTo, v.CountAtValueIteratedTo }).ToList(),
    };

    public LongHistogram ToHistogram()
    {
        var histogram = new LongHistogram(1, 3_600_000_000, 3);
        foreach (var bucket in Buckets)
        {
            histogram.RecordValueWithCount(Math.Clamp(bucket[0], 1, 3_600_000_000), bucket[1]);
        }
        return histogram;
    }

    public static HistogramData Merge(IEnumerable<HistogramData> parts)
    {
        var merged = new LongHistogram(1, 3_600_000_000, 3);
        foreach (var part in parts)
        {
            merged.Add(part.ToHistogram());
        }
        return From(merged);
    }
}

/// <summary>What one process measured; the parent of a --processes run sums these.</summary>
internal sealed record NodeResult
{
    public int Processes { get; init; }
    public int Clients { get; init; }
    public long ClientsCompleted { get; init; }
    public long ClientsFailed { get; init; }
    public long CyclesFailed { get; init; }
    public long Reconnects { get; init; }
    public long ReconnectAttemptsFailed { get; init; }
    public long ConnectsStarted { get; init; }
    public long Connected { get; init; }
    public long PeakAlive { get; init; }
    public long AliveAtWindowEnd { get; init; }
    /// <summary>Timed operations over the whole run (ramp and drain included), each one a reply checked.</summary>
    public long OpsTotal { get; init; }
    public double WindowSeconds { get; init; }
    public long BytesInWindow { get; init; }
    public long BytesOutWindow { get; init; }
    public long BytesInTotal { get; init; }
    public long BytesOutTotal { get; init; }
    public Dictionary<string, OpResult> Ops { get; init; } = [];
    public HistogramData ConnectUs { get; init; } = new();
    public SortedDictionary<string, long> Errors { get; init; } = [];
    public List<string> ErrorSamples { get; init; } = [];
    public double CpuSecondsTotal { get; init; }
    public double CpuSecondsWindow { get; init; }
    public long PeakRssKb { get; init; }

    public static NodeResult Merge(IReadOnlyList<NodeResult> parts)
    {
        var errors = new SortedDictionary<string, long>();
        foreach (var (kind, count) in parts.SelectMany(p => p.Errors))
        {
            errors[kind] = errors.GetValueOrDefault(kind) + count;
        }
        var ops = parts.SelectMany(p => p.Ops).GroupBy(kv => kv.Key).ToDictionary(
            g => g.Key,
            g => new OpResult { Count = g.Sum(kv => kv.Value.Count), LatencyUs = HistogramData.Merge(g.Select(kv => kv.Value.LatencyUs)) });
        return new NodeResult
        {
            Processes = parts.Sum(p => p.Processes),
            Clients = parts.Sum(p => p.Clients),
            ClientsCompleted = parts.Sum(p => p.ClientsCompleted),
            ClientsFailed = parts.Sum(p => p.ClientsFailed),
            CyclesFailed = parts.Sum(p => p.CyclesFailed),
            Reconnects = parts.Sum(p => p.Reconnects),
            ReconnectAttemptsFailed = parts.Sum(p => p.ReconnectAttemptsFailed),
            ConnectsStarted = parts.Sum(p => p.ConnectsStarted),
            Connected = parts.Sum(p => p.Connected),
            PeakAlive = parts.Sum(p => p.PeakAlive),
            AliveAtWindowEnd = parts.Sum(p => p.AliveAtWindowEnd),
            OpsTotal = parts.Sum(p => p.OpsTotal),
            // Workers open their windows on the same command, so the longest one stands for the run.
            WindowSeconds = parts.Count == 0 ? 0 : parts.Max(p => p.WindowSeconds),
            BytesInWindow = parts.Sum(p => p.BytesInWindow),
            BytesOutWindow = parts.Sum(p => p.BytesOutWindow),
            BytesInTotal = parts.Sum(p => p.BytesInTotal),
            BytesOutTotal = parts.Sum(p => p.BytesOutTotal),
            Ops = ops,
            ConnectUs = HistogramData.Merge(parts.Select(p => p.ConnectUs)),
            Errors = errors,
            ErrorSamples = parts.SelectMany(p => p.ErrorSamples).Take(20).ToList(),
            CpuSecondsTotal = parts.Sum(p => p.CpuSecondsTotal),
            CpuSecondsWindow = parts.Sum(p => p.CpuSecondsWindow),
            PeakRssKb = parts.Sum(p => p.PeakRssKb),
        };
    }
}
