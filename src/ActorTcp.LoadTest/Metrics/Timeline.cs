// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using HdrHistogram;

namespace ActorTcp.LoadTest.Metrics;

/// <summary>One second of the run, summed over the workers that reported in it.</summary>
internal sealed record TimelinePoint(
    int Second, int Workers, long Requests, long Errors, long Connections, long LatencyCount, long P50Us, long P99Us);

/// <summary>
/// The run's per-second series for the report, merged over workers: counts add up, connections are each worker's
/// latest gauge summed, latencies are merged histograms. (Not thread-safe: callers hold a lock.)
/// </summary>
internal sealed class Timeline
{
    private readonly SortedDictionary<int, Dictionary<string, (long Requests, long Errors, long Connections)>> _seconds = [];
    private readonly Dictionary<int, LongHistogram> _latency = [];

    public void Add(string worker, int second, long requests, long errors, long connections, HistogramBase? latencyUs)
    {
        if (!_seconds.TryGetValue(second, out var workers))
        {
            _seconds[second] = workers = [];
        }
        var before = workers.GetValueOrDefault(worker);
        workers[worker] = (before.Requests + requests, before.Errors + errors, connections);
        if (latencyUs is { TotalCount: > 0 })
        {
            if (!_latency.TryGetValue(second, out var merged))
            {
                _latency[second] = merged = new LongHistogram(1, 3_600_000_000, 3);
            }
            foreach (var v in latencyUs.RecordedValues())
            {
                merged.RecordValueWithCount(Math.Clamp(v.ValueIteratedTo, 1, 3_600_000_000), v.CountAtValueIteratedTo);
            }
        }
    }

    public IReadOnlyList<TimelinePoint> Points => _seconds.Select(kv =>
    {
        var h = _latency.GetValueOrDefault(kv.Key);
        long At(double p) => h is null ? 0 : h.GetValueAtPercentile(p);
        return new TimelinePoint(kv.Key, kv.Value.Count, kv.Value.Values.Sum(w => w.Requests), kv.Value.Values.Sum(w => w.Errors),
            kv.Value.Values.Sum(w => w.Connections), h?.TotalCount ?? 0, At(50), At(99));
    }).ToList();
}
