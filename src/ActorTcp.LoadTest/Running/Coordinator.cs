// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using ActorTcp.LoadTest.Cluster;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Output;

namespace ActorTcp.LoadTest.Running;

/// <summary>
/// Drives the phases of a run over its nodes (the clients in this process, or the workers of the run's cluster):
/// ramp, warm-up, window, drain, report. A worker lost on the way ends the phases early; the run reports it by name.
/// </summary>
internal sealed class Coordinator(LoadOptions options)
{
    private readonly ServerSampler _server = new(options.ServerPids);
    private readonly Timeline _timeline = new();
    private volatile string _phase = "starting";
    private IReadOnlyList<ILoadNode> _nodes = [];
    private readonly Stopwatch _clock = new();
    private Stopwatch? _window;
    private bool _timelineSealed;

    public string Phase => _phase;

    public TimeSpan Elapsed => _clock.Elapsed;

    public TimeSpan? WindowElapsed => _window?.Elapsed;

    public IReadOnlyList<ILoadNode> Nodes => _nodes;

    public Progress Progress => Progress.Sum(_nodes.Select(n => n.Progress));

    private bool AnyLost => _nodes.Any(n => n.Lost is not null);

    public async Task<int> RunAsync()
    {
        var startCpu = Environment.CpuUsage.TotalTime;
        ClusterRun? cluster = null;
        if (options.Distributed)
        {
            var (run, error) = await ClusterRun.AssembleAsync(options, OnSample, Console.Error);
            if (run is null)
            {
                Console.Error.WriteLine($"error: {error}");
                return 1;
            }
            cluster = run;
            // Ctrl-C or SIGTERM on the coordinator must not leave local workers holding thousands of connections.
            AppDomain.CurrentDomain.ProcessExit += (_, _) => run.KillLocalWorkers();
            Console.CancelKeyPress += (_, _) => run.KillLocalWorkers();
            _nodes = run.Workers;
        }
        LocalNode? local = null;
        if (cluster is null)
        {
            local = LocalNode.Prepare(options, "local");
            local.RunSamples(OnSample);
            _nodes = [local];
        }
        // The run's clock, and so the ramp's time, starts when the clients may start, in both modes: the local
        // node's actor system takes most of a second to make, which is not the ramp (a cluster's workers are made
        // before this point too).
        _clock.Start();
        _server.AtStart();
        if (local is not null)
        {
            local.Begin();
        }
        else
        {
            cluster!.StartAll();
        }
        try
        {
            var phases = RunPhasesAsync();
            var live = LiveView.ShouldRun(options) ? new LiveView(this, options) : null;
            var results = live is null ? await WithPlainStatus(phases) : await live.RunAsync(phases);

            var merged = NodeResult.Merge(results.Result);
            if (cluster is not null)
            {
                // The coordinator only merges, but its CPU and memory belong to the generator too.
                merged = merged with
                {
                    CpuSecondsTotal = merged.CpuSecondsTotal + (Environment.CpuUsage.TotalTime - startCpu).TotalSeconds,
                    PeakRssKb = merged.PeakRssKb + ProcStats.OwnPeakRssKb(),
                };
            }
            foreach (var lost in _nodes.Where(n => n.Lost is not null))
            {
                var who = lost is RemoteWorker worker && cluster is not null ? cluster.Describe(worker) : lost.Name;
                var p = lost.Progress;
                Console.Error.WriteLine($"error: worker {who} was lost mid-run ({lost.Lost}); it had started {p.ClientsStarted:N0} of {p.Clients:N0} clients, "
                    + $"{p.ConnectedNow:N0} connected, {p.ClientsFinished:N0} finished, {p.Ops:N0} requests, {p.Errors:N0} errors");
            }
            var report = new RunReport(options, merged, _server.Stats, results.RampSeconds, results.RampComplete)
            {
                Workers = cluster is null ? [] : [.. _nodes.Zip(results.Result, (node, result) => (node.Name, result))],
            };
            ReportPrinter.Print(report, Console.Out);
            if (options.JsonPath is not null)
            {
                await JsonReport.WriteAsync(report, options.JsonPath);
            }
            if (options.ReportPath is not null)
            {
                var latency = HistogramData.Merge(merged.Ops.Values.Select(o => o.LatencyUs)).ToHistogram();
                lock (_timeline)
                {
                    _timelineSealed = true;
                }
                await HtmlReport.WriteAsync(options.ReportPath, report, _timeline, latency);
            }
            return merged.ClientsFailed > 0 || merged.Errors.Count > 0 || AnyLost ? 1 : 0;
        }
        finally
        {
            // The cluster dismisses its workers itself (and waits for the local ones to exit).
            if (cluster is not null)
            {
                await cluster.DisposeAsync();
            }
            else
            {
                foreach (var node in _nodes)
                {
                    await node.DisposeAsync();
                }
            }
        }
    }

    private void OnSample(ProgressSample sample)
    {
        lock (_timeline)
        {
            // A late sample after the report began is dropped: the results already hold everything it counted.
            if (_timelineSealed)
            {
                return;
            }
            _timeline.Add(sample.Worker, Math.Max(0, sample.Second), sample.Requests, sample.Errors, sample.ConnectedNow, sample.LatencyUs);
        }
    }

    private sealed record PhaseResults(IReadOnlyList<NodeResult> Result, double RampSeconds, bool RampComplete);

    private async Task<PhaseResults> RunPhasesAsync()
    {
        var rampComplete = true;
        double rampSeconds;
        if (options.MeasuresFromStart)
        {
            StartWindow();
            rampSeconds = 0;
        }
        else
        {
            _phase = "ramp";
            var deadline = options.EffectiveRampTimeout;
            await WaitWhile(() => !Progress.AllSettled && _clock.Elapsed < deadline);
            rampSeconds = _clock.Elapsed.TotalSeconds;
            rampComplete = Progress.AllSettled;
            _server.AtReady();
            if (options.Warmup > TimeSpan.Zero)
            {
                _phase = "warm-up";
                var warmupEnd = _clock.Elapsed + options.Warmup;
                await WaitWhile(() => _clock.Elapsed < warmupEnd);
            }
            StartWindow();
        }

        await WaitWhile(() => _window!.Elapsed < options.Duration && !Progress.AllFinished);
        var windowSeconds = _window!.Elapsed.TotalSeconds;
        foreach (var node in _nodes)
        {
            node.StopWindow();
        }
        _server.AtWindowEnd(windowSeconds);
        _phase = AnyLost ? "worker lost" : "drain";
        var results = await Task.WhenAll(_nodes.Select(n => n.FinishAsync(options.Drain)));
        _phase = "done";
        return new PhaseResults(results, rampSeconds, rampComplete);
    }

    /// <summary>Polls a phase's condition; a lost worker ends every phase at once (the rest of the run drains).</summary>
    private async Task WaitWhile(Func<bool> condition)
    {
        while (condition() && !AnyLost)
        {
            await Task.Delay(50);
        }
    }

    private void StartWindow()
    {
        foreach (var node in _nodes)
        {
            node.StartWindow();
        }
        _server.AtWindowStart();
        _window = Stopwatch.StartNew();
        _phase = "measuring";
    }

    /// <summary>Without a terminal: one status line on stderr every 5 s, so a script's log still shows progress.</summary>
    private async Task<PhaseResults> WithPlainStatus(Task<PhaseResults> phases)
    {
        while (await Task.WhenAny(phases, Task.Delay(5000)) != phases)
        {
            var p = Progress;
            var workers = _nodes.Count > 1
                ? " [" + string.Join(", ", _nodes.Select(n => $"{n.Name} {n.Progress.ConnectedNow}{(n.Lost is null ? "" : " LOST")}")) + "]"
                : "";
            Console.Error.WriteLine(
                $"[{_clock.Elapsed.TotalSeconds,6:F1}s] {_phase,-9} started {p.ClientsStarted}/{p.Clients} connected {p.ConnectedNow} ready {p.ReadyNow} ops {p.Ops} errors {p.Errors}{workers}");
        }
        return await phases;
    }
}
