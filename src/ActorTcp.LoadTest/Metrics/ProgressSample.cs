// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using ActorTcp.LoadTest.Cluster;
using HdrHistogram;

namespace ActorTcp.LoadTest.Metrics;

/// <summary>
/// One second of one worker: what happened within it (operations, errors, their latencies), the connections open at
/// its end, and the worker's running totals. Workers stream these to the coordinator once a second.
/// </summary>
internal sealed record ProgressSample(
    string Worker, int Second, long Requests, long Errors, long ConnectedNow, HistogramBase LatencyUs, Progress Progress) : ILoadTestMessage;

/// <summary>Turns a process's cumulative counters into per-second samples; called by one stream stage at a time.</summary>
internal sealed class ProgressSampler(string worker, LoadMetrics metrics, int clients)
{
    // The live view shows the top kinds; the final result carries all of them.
    private const int MaxKindsPerSample = 20;

    private long _lastOps;
    private long _lastErrors;
    private long _start = Stopwatch.GetTimestamp();

    /// <summary>Seconds are counted from here: the moment this worker's clients start.</summary>
    public void Restart()
    {
        _start = Stopwatch.GetTimestamp();
        _lastOps = metrics.TotalOps;
        _lastErrors = Interlocked.Read(ref metrics.ErrorCount);
        metrics.IntervalLatency();
    }

    public ProgressSample Next()
    {
        var progress = metrics.Snapshot(clients);
        if (progress.ErrorKinds.Count > MaxKindsPerSample)
        {
            progress = progress with
            {
                ErrorKinds = progress.ErrorKinds.OrderByDescending(kv => kv.Value).Take(MaxKindsPerSample).ToDictionary(kv => kv.Key, kv => kv.Value),
            };
        }
        var second = (int)Math.Round(Stopwatch.GetElapsedTime(_start).TotalSeconds);
        var sample = new ProgressSample(
            worker, second, progress.Ops - _lastOps, progress.Errors - _lastErrors, progress.ConnectedNow, metrics.IntervalLatency(), progress);
        _lastOps = progress.Ops;
        _lastErrors = progress.Errors;
        return sample;
    }
}
