// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using HdrHistogram;

namespace ActorTcp.LoadTest.Metrics;

/// <summary>One second of the run, summed over the workers that reported in it.</summary>
/// <param name="Second">Seconds since the run started.</param>
/// <param name="Workers">How many workers sent a sample for this second; 0 for a second nobody reported.</param>
/// <param name="Requests">Requests completed in this second.</param>
/// <param name="Errors">Errors counted in this second.</param>
/// <param name="Connections">Connections open at this second: each reporting worker's latest gauge, summed.</param>
/// <param name="LatencyCount">Latencies recorded in this second (the merged histogram's total).</param>
/// <param name="P50Us">Median request latency in microseconds, from the merged histogram; 0 when none was recorded.</param>
/// <param name="P99Us">99th percentile request latency in microseconds, from the merged histogram; 0 when none was recorded.</param>
internal sealed record TimelinePoint(
    int Second, int Workers, long Requests, long Errors, long Connections, long LatencyCount, long P50Us, long P99Us);

/// <summary>What one worker did over the whole run, as its samples told it.</summary>
internal sealed record TimelineWorker(string Name, long Requests, long Errors, long PeakConnections);

/// <summary>
/// The run's time series for the report: per-second samples from every worker, merged into one point per second.
/// Requests and errors add up; connections are a gauge, so a later sample from the same worker for the same second
/// replaces the earlier one; latency histograms are added bucket by bucket, so a second's p99 is the p99 of every
/// request in that second, never an average of the workers' percentiles.
/// </summary>
/// <remarks>
/// Not thread-safe: the coordinator owns one and calls <see cref="Add"/> from its actor, and reads
/// <see cref="Points"/> once the run is over. Anything else must hold a lock around both.
/// </remarks>
internal sealed class Timeline
{
    // The range HistogramData uses for latencies: 1 µs to one hour, 3 significant digits.
    private const long LowestUs = 1;
    private const long HighestUs = 3_600_000_000;

    /// <summary>
    /// A second this far behind the newest sample keeps only its percentiles, not its histogram (about 400 KB):
    /// a long run holds a few dozen histograms, not one per second. Longer than the coordinator waits for a silent
    /// worker before calling it lost, so no live worker's sample comes later than this.
    /// </summary>
    public const int SealAfterSeconds = 30;

    private readonly SortedDictionary<int, Second> _seconds = [];
    private int _sealedBelow;
    private readonly Dictionary<string, WorkerTotals> _workers = [];

    /// <summary>Adds one worker's sample for one second.</summary>
    /// <param name="worker">The worker's name, as the report shows it.</param>
    /// <param name="second">Seconds since the run started (not negative).</param>
    /// <param name="requests">Requests this worker completed within that second.</param>
    /// <param name="errors">Errors this worker counted within that second.</param>
    /// <param name="connections">This worker's connections open at that second.</param>
    /// <param name="latencyUs">This worker's request latencies within that second, in microseconds; null for none.</param>
    public void Add(string worker, int second, long requests, long errors, long connections, HistogramBase? latencyUs)
    {
        ArgumentNullException.ThrowIfNull(worker);
        ArgumentOutOfRangeException.ThrowIfNegative(second);
        ArgumentOutOfRangeException.ThrowIfNegative(requests);
        ArgumentOutOfRangeException.ThrowIfNegative(errors);
        ArgumentOutOfRangeException.ThrowIfNegative(connections);

        if (!_seconds.TryGetValue(second, out var slot))
        {
            slot = new Second();
            _seconds.Add(second, slot);
        }
        var sample = slot.Workers.GetValueOrDefault(worker);
        slot.Workers[worker] = new WorkerSecond(sample.Requests + requests, sample.Errors + errors, connections);
        if (latencyUs is { TotalCount: > 0 } && !slot.Sealed)
        {
            slot.Latency ??= new LongHistogram(LowestUs, HighestUs, 3);
            AddInto(slot.Latency, latencyUs);
        }

        for (; _sealedBelow < second - SealAfterSeconds; _sealedBelow++)
        {
            if (_seconds.TryGetValue(_sealedBelow, out var old)) old.Seal();
        }

        var totals = _workers.GetValueOrDefault(worker);
        _workers[worker] = new WorkerTotals(
            totals.Requests + requests, totals.Errors + errors, Math.Max(totals.PeakConnections, connections));
    }

    /// <summary>One point per second from 0 to the last second reported, in order; a second nobody reported is all zeros.</summary>
    public IReadOnlyList<TimelinePoint> Points
    {
        get
        {
            if (_seconds.Count == 0)
            {
                return [];
            }
            var last = _seconds.Keys.Max();
            var points = new List<TimelinePoint>(last + 1);
            for (var s = 0; s <= last; s++)
            {
                points.Add(_seconds.TryGetValue(s, out var slot) ? slot.ToPoint(s) : new TimelinePoint(s, 0, 0, 0, 0, 0, 0, 0));
            }
            return points;
        }
    }

    /// <summary>Every worker that sent a sample, by name, with what its samples add up to.</summary>
    public IReadOnlyList<TimelineWorker> Workers =>
        _workers.OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => new TimelineWorker(kv.Key, kv.Value.Requests, kv.Value.Errors, kv.Value.PeakConnections))
            .ToList();

    // HistogramBase.Add refuses a source whose range is wider than ours; recording each bucket's value clamped
    // into range keeps every value in the bucket it had (the ranges share their resolution) and never throws.
    private static void AddInto(LongHistogram target, HistogramBase source)
    {
        if (source.HighestTrackableValue <= HighestUs && source.LowestTrackableValue >= LowestUs
            && source.NumberOfSignificantValueDigits == target.NumberOfSignificantValueDigits)
        {
            target.Add(source);
            return;
        }
        foreach (var bucket in source.RecordedValues())
        {
            target.RecordValueWithCount(Math.Clamp(bucket.ValueIteratedTo, LowestUs, HighestUs), bucket.CountAtValueIteratedTo);
        }
    }

    private readonly record struct WorkerSecond(long Requests, long Errors, long Connections);

    private readonly record struct WorkerTotals(long Requests, long Errors, long PeakConnections);

    private sealed class Second
    {
        public Dictionary<string, WorkerSecond> Workers { get; } = [];
        public LongHistogram? Latency { get; set; }

        private (long Count, long P50, long P99)? _percentiles;

        public bool Sealed => _percentiles is not null;

        /// <summary>Keeps the second's percentiles and lets its histogram go.</summary>
        public void Seal()
        {
            var count = Latency?.TotalCount ?? 0;
            _percentiles = count == 0 ? (0, 0, 0) : (count, Latency!.GetValueAtPercentile(50), Latency.GetValueAtPercentile(99));
            Latency = null;
        }

        public TimelinePoint ToPoint(int second)
        {
            long requests = 0, errors = 0, connections = 0;
            foreach (var w in Workers.Values)
            {
                requests += w.Requests;
                errors += w.Errors;
                connections += w.Connections;
            }
            if (_percentiles is var (sealedCount, p50, p99))
                return new TimelinePoint(second, Workers.Count, requests, errors, connections, sealedCount, p50, p99);
            var count = Latency?.TotalCount ?? 0;
            return new TimelinePoint(
                second,
                Workers.Count,
                requests,
                errors,
                connections,
                count,
                count == 0 ? 0 : Latency!.GetValueAtPercentile(50),
                count == 0 ? 0 : Latency!.GetValueAtPercentile(99));
        }
    }
}
