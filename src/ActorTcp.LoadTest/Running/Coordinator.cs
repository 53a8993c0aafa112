// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Output;

namespace ActorTcp.LoadTest.Running;

/// <summary>Drives the phases of a run over its nodes (one local, or N workers): ramp, warm-up, window, drain, report.</summary>
internal sealed class Coordinator(LoadOptions options)
{
    private readonly ServerSampler _server = new(options.ServerPids);
    private volatile string _phase = "starting";
    private IReadOnlyList<ILoadNode> _nodes = [];
    private readonly Stopwatch _clock = new();
    private Stopwatch? _window;

    public string Phase => _phase;

    public TimeSpan Elapsed => _clock.Elapsed;

    public TimeSpan? WindowElapsed => _window?.Elapsed;

    public Progress Progress => Progress.Sum(_nodes.Select(n => n.Progress));

    public async Task<int> RunAsync()
    {
        var startCpu = Environment.CpuUsage.TotalTime;
        _clock.Start();
        _server.AtStart();
        _nodes = options.Processes > 1 ? WorkerNode.StartAll(options) : [LocalNode.Start(options)];
        // Ctrl-C or SIGTERM on the parent must not leave workers holding thousands of connections.
        void KillWorkers()
        {
            foreach (var worker in _nodes.OfType<WorkerNode>())
            {
                worker.Kill();
            }
        }
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillWorkers();
        Console.CancelKeyPress += (_, _) => KillWorkers();
        try
        {
            var phases = RunPhasesAsync();
            var live = LiveView.ShouldRun(options) ? new LiveView(this, options) : null;
            var results = live is null ? await WithPlainStatus(phases) : await live.RunAsync(phases);

            var merged = NodeResult.Merge(results.Result);
            if (options.Processes > 1)
            {
                // The parent only reads pipes, but its CPU belongs to the generator too.
                merged = merged with
                {
                    CpuSecondsTotal = merged.CpuSecondsTotal + (Environment.CpuUsage.TotalTime - startCpu).TotalSeconds,
                    PeakRssKb = merged.PeakRssKb + ProcStats.OwnPeakRssKb(),
                };
            }
            var report = new RunReport(options, merged, _server.Stats, results.RampSeconds, results.RampComplete);
            ReportPrinter.Print(report, Console.Out);
            if (options.JsonPath is not null)
            {
                await JsonReport.WriteAsync(report, options.JsonPath);
            }
            return merged.ClientsFailed > 0 || merged.Errors.Count > 0 ? 1 : 0;
        }
        finally
        {
            foreach (var node in _nodes)
            {
                await node.DisposeAsync();
            }
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
            while (!Progress.AllSettled && _clock.Elapsed < deadline)
            {
                await Task.Delay(50);
            }
            rampSeconds = _clock.Elapsed.TotalSeconds;
            rampComplete = Progress.AllSettled;
            _server.AtReady();
            if (options.Warmup > TimeSpan.Zero)
            {
                _phase = "warm-up";
                await Task.Delay(options.Warmup);
            }
            StartWindow();
        }

        while (_window!.Elapsed < options.Duration && !Progress.AllFinished)
        {
            await Task.Delay(50);
        }
        var windowSeconds = _window.Elapsed.TotalSeconds;
        foreach (var node in _nodes)
        {
            node.StopWindow();
        }
        _server.AtWindowEnd(windowSeconds);
        _phase = "drain";
        var results = await Task.WhenAll(_nodes.Select(n => n.FinishAsync(options.Drain)));
        _phase = "done";
        return new PhaseResults(results, rampSeconds, rampComplete);
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
            Console.Error.WriteLine(
                $"[{_clock.Elapsed.TotalSeconds,6:F1}s] {_phase,-9} started {p.ClientsStarted}/{p.Clients} connected {p.ConnectedNow} ready {p.ReadyNow} ops {p.Ops} errors {p.Errors}");
        }
        return await phases;
    }
}
