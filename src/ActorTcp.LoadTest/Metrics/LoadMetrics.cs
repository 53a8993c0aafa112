// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Collections.Concurrent;
using System.Diagnostics;
using HdrHistogram;

namespace ActorTcp.LoadTest.Metrics;

/// <summary>Timed operations, each with its own latency histogram.</summary>
internal enum Op
{
    /// <summary>ECHO request to its reply line.</summary>
    Echo,
    /// <summary>PING to PONG (idle clients).</summary>
    Ping,
    /// <summary>GET to the last verified byte.</summary>
    Download,
    /// <summary>Connect to the server's close after Goodbye! (dialog, churn).</summary>
    Cycle,
    /// <summary>--reconnect: from the lost connection to <c>Hello NAME!</c> on the new one.</summary>
    Reconnect,
}

/// <summary>
/// The counters of one process, written by every client actor at once (Interlocked and concurrent
/// histograms, no locks on the hot path), and read by the live view and at the end of the window.
/// </summary>
internal sealed class LoadMetrics
{
    // One hour in microseconds, 3 significant digits: about 0.1 % resolution.
    private const long HighestMicros = 3_600_000_000;
    private const int MaxSamples = 20;

    private readonly Recorder[] _recorders = Enum.GetValues<Op>().Select(_ => NewRecorder()).ToArray();
    // Every timed operation again, read once a second for the progress samples (the per-op recorders belong to the window).
    // Two significant digits (1 % resolution) are plenty for a chart's p50 and p99, and make each second's histogram
    // about 50 KB instead of 400 KB, a new one every second.
    private readonly Recorder _perSecond = new(1, HighestMicros, 2, (id, low, high, digits) => new LongHistogram(id, low, high, digits));
    private readonly long[] _opCounts = new long[Enum.GetValues<Op>().Length];
    private readonly LongConcurrentHistogram _connect = new(1, HighestMicros, 3);
    private readonly ConcurrentDictionary<string, long> _errors = new();
    private readonly ConcurrentQueue<string> _samples = new();
    private WindowMark? _windowStart;
    private NodeResult? _windowResult;

    public long ConnectsStarted;
    public long Connected;
    public long ConnectedNow;
    public long ReadyNow;
    public long PeakReady;
    public long Settled;
    public long ClientsStarted;
    public long ClientsFinished;
    public long ClientsCompleted;
    public long ClientsFailed;
    public long CyclesFailed;
    /// <summary>--reconnect: connections the server closed or reset that the client set out to make again.</summary>
    public long Reconnects;
    /// <summary>--reconnect: connect attempts that failed on the way back (refused, timed out); retried, not errors.</summary>
    public long ReconnectAttemptsFailed;
    public long BytesIn;
    public long DownloadedBytes;
    public long BytesOut;
    public long ErrorCount;

    public static long Now => Stopwatch.GetTimestamp();

    public static long MicrosSince(long start) =>
        Math.Max(1, (long)Stopwatch.GetElapsedTime(start).TotalMicroseconds);

    public void Record(Op op, long startTimestamp)
    {
        Interlocked.Increment(ref _opCounts[(int)op]);
        var micros = Math.Min(HighestMicros, MicrosSince(startTimestamp));
        _recorders[(int)op].RecordValue(micros);
        _perSecond.RecordValue(micros);
    }

    /// <summary>Latencies of every operation since the previous call, in microseconds.</summary>
    public HistogramBase IntervalLatency() => _perSecond.GetIntervalHistogram();

    public long OpCount(Op op) => Interlocked.Read(ref _opCounts[(int)op]);

    public long TotalOps => _opCounts.Sum();

    public void RecordConnect(long startTimestamp) =>
        _connect.RecordValue(Math.Min(HighestMicros, MicrosSince(startTimestamp)));

    public void Error(string kind, string? sample = null)
    {
        Interlocked.Increment(ref ErrorCount);
        _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);
        if (sample is not null && _samples.Count < MaxSamples)
        {
            _samples.Enqueue(sample);
        }
    }

    public IReadOnlyDictionary<string, long> Errors => _errors;

    public void BecameReady()
    {
        var now = Interlocked.Increment(ref ReadyNow);
        long peak;
        while (now > (peak = Interlocked.Read(ref PeakReady)) && Interlocked.CompareExchange(ref PeakReady, now, peak) != peak)
        {
        }
    }

    public Progress Snapshot(int clients) => new()
    {
        Clients = clients,
        ClientsStarted = Interlocked.Read(ref ClientsStarted),
        ConnectsStarted = Interlocked.Read(ref ConnectsStarted),
        ConnectedNow = Interlocked.Read(ref ConnectedNow),
        ReadyNow = Interlocked.Read(ref ReadyNow),
        Settled = Interlocked.Read(ref Settled),
        ClientsFinished = Interlocked.Read(ref ClientsFinished),
        Ops = TotalOps,
        Errors = Interlocked.Read(ref ErrorCount),
        BytesIn = Interlocked.Read(ref BytesIn),
        BytesOut = Interlocked.Read(ref BytesOut),
        ErrorKinds = new Dictionary<string, long>(_errors),
    };

    public void BeginWindow()
    {
        foreach (var recorder in _recorders)
        {
            recorder.GetIntervalHistogram();
        }
        _windowStart = Mark();
    }

    /// <summary>Closes the measured window: only what happened inside it counts toward throughput and latency.</summary>
    public void EndWindow()
    {
        var start = _windowStart ?? Mark();
        var end = Mark();
        var ops = new Dictionary<string, OpResult>();
        foreach (var op in Enum.GetValues<Op>())
        {
            var histogram = _recorders[(int)op].GetIntervalHistogram();
            var count = end.Ops[(int)op] - start.Ops[(int)op];
            if (count > 0 || histogram.TotalCount > 0)
            {
                ops[op.ToString().ToLowerInvariant()] = new OpResult { Count = count, LatencyUs = HistogramData.From(histogram) };
            }
        }
        _windowResult = new NodeResult
        {
            WindowSeconds = Stopwatch.GetElapsedTime(start.Timestamp, end.Timestamp).TotalSeconds,
            AliveAtWindowEnd = Interlocked.Read(ref ReadyNow),
            BytesInWindow = end.BytesIn - start.BytesIn,
            BytesOutWindow = end.BytesOut - start.BytesOut,
            CpuSecondsWindow = (end.Cpu - start.Cpu).TotalSeconds,
            Ops = ops,
        };
    }

    /// <summary>The whole run, once every client has finished or been given up on.</summary>
    public NodeResult Result(int clients)
    {
        var window = _windowResult ?? new NodeResult();
        return window with
        {
            Clients = clients,
            ClientsCompleted = Interlocked.Read(ref ClientsCompleted),
            ClientsFailed = Interlocked.Read(ref ClientsFailed),
            CyclesFailed = Interlocked.Read(ref CyclesFailed),
            Reconnects = Interlocked.Read(ref Reconnects),
            ReconnectAttemptsFailed = Interlocked.Read(ref ReconnectAttemptsFailed),
            ConnectsStarted = Interlocked.Read(ref ConnectsStarted),
            Connected = Interlocked.Read(ref Connected),
            PeakAlive = Interlocked.Read(ref PeakReady),
            OpsTotal = TotalOps,
            BytesInTotal = Interlocked.Read(ref BytesIn),
            BytesOutTotal = Interlocked.Read(ref BytesOut),
            ConnectUs = HistogramData.From(_connect),
            Errors = new SortedDictionary<string, long>(_errors),
            ErrorSamples = [.. _samples],
            CpuSecondsTotal = Environment.CpuUsage.TotalTime.TotalSeconds,
            PeakRssKb = ProcStats.OwnPeakRssKb(),
            Processes = 1,
        };
    }

    private WindowMark Mark() => new(
        Stopwatch.GetTimestamp(),
        Enum.GetValues<Op>().Select(OpCount).ToArray(),
        Interlocked.Read(ref BytesIn),
        Interlocked.Read(ref BytesOut),
        Environment.CpuUsage.TotalTime);

    private static Recorder NewRecorder() =>
        new(1, HighestMicros, 3, (id, low, high, digits) => new LongHistogram(id, low, high, digits));

    private sealed record WindowMark(long Timestamp, long[] Ops, long BytesIn, long BytesOut, TimeSpan Cpu);
}
