// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace ActorTcp.LoadTest.Clients;

/// <summary>The end of the window: every client finishes its work and says QUIT; no new client starts.</summary>
internal sealed record StopAll
{
    public static readonly StopAll Instance = new();
}

/// <summary>Starts the ramp: sent once the run's workers are all ready, so that they start together.</summary>
internal sealed record BeginRamp
{
    public static readonly BeginRamp Instance = new();
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
/// Parent of one process's clients. The ramp is a stream: client indexes pass a <c>Throttle</c> stage at the asked
/// rate and reach this actor in small batches (what passed in 10 ms, each batch acknowledged: one round trip per
/// client would cap the ramp at the round trip's pace), and the acknowledgement waits while --max-connecting
/// handshakes are in flight, so the stream's backpressure holds the ramp at the server's pace. At the end of the
/// window the clients are stopped, and <c>allFinished</c> completes when the last one is gone.
/// </summary>
internal sealed class LoadDriver : ReceiveActor, IWithTimers
{
    private sealed record RampInit
    {
        public static readonly RampInit Instance = new();
    }

    private sealed record RampAck
    {
        public static readonly RampAck Instance = new();
    }

    private sealed record RampDone
    {
        public static readonly RampDone Instance = new();
    }

    private sealed record RampFailed(Exception Cause);

    private sealed record HandshakeCheck
    {
        public static readonly HandshakeCheck Instance = new();
    }

    // The ramp's batches: what the throttle let through in this long, at most this many.
    private static readonly TimeSpan BatchWindow = TimeSpan.FromMilliseconds(10);
    private const int BatchMost = 256;

    // While at the bound, how often the number of handshakes in flight is looked at again.
    private static readonly TimeSpan HandshakeCheckPeriod = TimeSpan.FromMilliseconds(5);

    private readonly RunContext _run;
    private readonly Props _clientProps;
    private readonly int _clients;
    private readonly int _offset;
    private readonly TaskCompletionSource _allFinished;
    private UniqueKillSwitch? _ramp;
    private readonly Queue<int> _next = new();
    private IActorRef? _stage;
    private int _started;
    private int _finished;
    private bool _stopping;

    public LoadDriver(RunContext run, int clients, int offset, TaskCompletionSource allFinished)
    {
        _run = run;
        // One Props for all the clients: a Props (and its Deploy) per client would stay with each for its life.
        _clientProps = ClientActor.Props(run);
        _clients = clients;
        _offset = offset;
        _allFinished = allFinished;
        Receive<BeginRamp>(_ => OnBeginRamp());
        Receive<RampInit>(_ => Sender.Tell(RampAck.Instance));
        Receive<IEnumerable<int>>(batch =>
        {
            foreach (var index in batch) _next.Enqueue(index);
            _stage = Sender;
            StartNext();
        });
        Receive<HandshakeCheck>(_ => StartNext());
        Receive<RampDone>(_ => { });
        Receive<RampFailed>(failed => _run.Metrics.Error($"ramp failed: {failed.Cause.GetType().Name}", failed.Cause.Message));
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

    // A client that throws is stopped and counted, never restarted into a half-known state.
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(e =>
    {
        _run.Metrics.Error($"client crashed: {e.GetType().Name}", e.Message);
        return Directive.Stop;
    });

    protected override void PostStop() => _ramp?.Shutdown();

    private void OnBeginRamp()
    {
        if (_ramp is not null || _stopping || _clients == 0)
        {
            return;
        }
        var (elements, per, burst) = Rate(_run.Options.Ramp);
        // The system's materializer, not this actor's: the driver's children are its clients and nothing else.
        _ramp = Source.From(Enumerable.Range(_offset, _clients))
            .Throttle(elements, per, burst, ThrottleMode.Shaping)
            .GroupedWithin(BatchMost, BatchWindow)
            .ViaMaterialized(KillSwitches.Single<IEnumerable<int>>(), Keep.Right)
            .To(Sink.ActorRefWithAck<IEnumerable<int>>(Self, RampInit.Instance, RampAck.Instance, RampDone.Instance, e => new RampFailed(e)))
            .Run(Context.System.Materializer());
    }

    /// <summary>
    /// The throttle's token bucket for <paramref name="perSecond"/> connections a second: whole elements per period,
    /// and a burst of up to 100 ms worth. The throttle waits for its next token on Akka's scheduler, which wakes once
    /// a tick (10 ms) and later on a busy box; tokens beyond the burst are lost, so a burst of one tick's worth lost a
    /// sixth of the ramp at 5,000/s. A burst is still bounded by --max-connecting handshakes in flight.
    /// </summary>
    public static (int Elements, TimeSpan Per, int Burst) Rate(double perSecond)
    {
        var elements = Math.Max(1, (int)Math.Round(Math.Min(perSecond, 1_000_000)));
        return (elements, TimeSpan.FromSeconds(elements / perSecond), Math.Max(1, elements / 10));
    }

    private void StartNext()
    {
        if (_stage is null || _stopping)
        {
            return;
        }
        var metrics = _run.Metrics;
        while (_next.Count > 0)
        {
            var inHandshake = Interlocked.Read(ref metrics.ClientsStarted) - Interlocked.Read(ref metrics.Settled);
            if (inHandshake >= _run.Options.MaxConnecting)
            {
                // Withholding the ack is the backpressure: the throttle upstream waits with us.
                Timers.StartSingleTimer("handshakes", HandshakeCheck.Instance, HandshakeCheckPeriod);
                return;
            }
            var index = _next.Dequeue();
            Context.ActorOf(_clientProps, "c" + index).Tell(new StartClient(index));
            _started++;
            Interlocked.Increment(ref metrics.ClientsStarted);
        }
        _stage.Tell(RampAck.Instance);
        _stage = null;
    }

    private void OnStopAll()
    {
        if (_stopping)
        {
            return;
        }
        _stopping = true;
        _ramp?.Shutdown();
        _next.Clear();
        _stage = null;
        Timers.Cancel("handshakes");
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
