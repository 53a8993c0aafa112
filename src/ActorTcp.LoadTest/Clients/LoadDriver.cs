// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using Akka.Actor;

namespace ActorTcp.LoadTest.Clients;

/// <summary>The end of the window: every client finishes its work and says QUIT; no new client starts.</summary>
internal sealed record StopAll
{
    public static readonly StopAll Instance = new();
}

/// <summary>The drain time is over: clients still running are counted as failed and stopped.</summary>
internal sealed record GiveUp
{
    public static readonly GiveUp Instance = new();
}

/// <summary>Sent by the driver to a client that did not finish within the drain time.</summary>
internal sealed record AbandonClient
{
    public static readonly AbandonClient Instance = new();
}

/// <summary>
/// Parent of one process's clients: starts them at the ramp rate with a bounded number of handshakes in
/// flight, stops them at the end of the window, and completes <c>allFinished</c> when the last one is gone.
/// </summary>
internal sealed class LoadDriver : ReceiveActor, IWithTimers
{
    private sealed record RampTick
    {
        public static readonly RampTick Instance = new();
    }

    private static readonly TimeSpan RampPeriod = TimeSpan.FromMilliseconds(10);

    private readonly RunContext _run;
    private readonly int _clients;
    private readonly int _offset;
    private readonly TaskCompletionSource _allFinished;
    private int _started;
    private int _finished;
    private double _allowance;
    private long _lastTick;
    private bool _stopping;

    public LoadDriver(RunContext run, int clients, int offset, TaskCompletionSource allFinished)
    {
        _run = run;
        _clients = clients;
        _offset = offset;
        _allFinished = allFinished;
        Receive<RampTick>(_ => OnRampTick());
        Receive<ClientFinished>(_ => OnFinished(1));
        Receive<StopAll>(_ => OnStopAll());
        Receive<GiveUp>(_ =>
        {
            foreach (var child in Context.GetChildren())
            {
                child.Tell(AbandonClient.Instance);
            }
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(RunContext run, int clients, int offset, TaskCompletionSource allFinished) =>
        Akka.Actor.Props.Create(() => new LoadDriver(run, clients, offset, allFinished));

    protected override void PreStart()
    {
        _lastTick = Stopwatch.GetTimestamp();
        _allowance = 1;
        Timers.StartPeriodicTimer("ramp", RampTick.Instance, TimeSpan.Zero, RampPeriod);
    }

    // A client that throws is stopped and counted, never restarted into a half-known state.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        _run.Metrics.Error($"client crashed: {e.GetType().Name}", e.Message);
        return Directive.Stop;
    });

    private void OnRampTick()
    {
        var now = Stopwatch.GetTimestamp();
        var elapsed = Stopwatch.GetElapsedTime(_lastTick, now).TotalSeconds;
        _lastTick = now;
        // Cap the burst after a stall (GC, busy box) to one tick's worth plus one.
        _allowance = Math.Min(_allowance + _run.Options.Ramp * elapsed, Math.Max(1, _run.Options.Ramp * RampPeriod.TotalSeconds) + 1);
        var metrics = _run.Metrics;
        while (_started < _clients && _allowance >= 1)
        {
            var inHandshake = Interlocked.Read(ref metrics.ClientsStarted) - Interlocked.Read(ref metrics.Settled);
            if (inHandshake >= _run.Options.MaxConnecting)
            {
                break;
            }
            var index = _offset + _started;
            Context.ActorOf(ClientActor.Props(index, _run), "c" + index);
            _started++;
            Interlocked.Increment(ref metrics.ClientsStarted);
            _allowance -= 1;
        }
        if (_started == _clients)
        {
            Timers.Cancel("ramp");
        }
    }

    private void OnStopAll()
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        Timers.Cancel("ramp");
        var notStarted = _clients - _started;
        if (notStarted > 0)
        {
            // Clients the ramp never reached are failures of the run, not silently smaller numbers.
            var metrics = _run.Metrics;
            for (var i = 0; i < notStarted; i++)
            {
                metrics.Error("not started: ramp did not finish in time");
            }
            Interlocked.Add(ref metrics.ClientsStarted, notStarted);
            Interlocked.Add(ref metrics.Settled, notStarted);
            Interlocked.Add(ref metrics.ClientsFailed, notStarted);
            Interlocked.Add(ref metrics.ClientsFinished, notStarted);
            _started = _clients;
            OnFinished(notStarted);
        }
        foreach (var child in Context.GetChildren())
        {
            child.Tell(StopClient.Instance);
        }
    }

    private void OnFinished(int count)
    {
        _finished += count;
        if (_finished >= _clients)
        {
            _allFinished.TrySetResult();
        }
    }
}
