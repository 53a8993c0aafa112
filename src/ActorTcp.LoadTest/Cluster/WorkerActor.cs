// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Running;
using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// A worker's side of the run, at <c>/user/worker</c>: says hello to the coordinator until it is given a share,
/// prepares that share's clients and offers their progress as a stream ref, then follows the coordinator's commands.
/// It ends the process (through <c>exit</c>) when dismissed, refused, not assigned in time, or when the coordinator has
/// been unreachable or gone for <see cref="ClusterSetup.CoordinatorLossLimit"/>.
/// </summary>
internal sealed class WorkerActor : ReceiveActor, IWithTimers
{
    public const int LostCoordinatorExitCode = 4;

    private sealed record HelloTick
    {
        public static readonly HelloTick Instance = new();
    }

    private sealed record JoinTimedOut
    {
        public static readonly JoinTimedOut Instance = new();
    }

    private sealed record CoordinatorLost
    {
        public static readonly CoordinatorLost Instance = new();
    }

    private sealed record DismissTimedOut
    {
        public static readonly DismissTimedOut Instance = new();
    }

    private sealed record Prepared(ISourceRef<ProgressSample> Progress);

    private sealed record Finished(NodeResult Result);

    private static readonly TimeSpan HelloPeriod = TimeSpan.FromSeconds(1);

    // After its result, a worker waits this long to be dismissed before it leaves anyway.
    private static readonly TimeSpan DismissWait = TimeSpan.FromSeconds(15);

    private readonly WorkerOptions _options;
    private readonly TaskCompletionSource<int> _exit;
    private readonly Action<LocalNode> _prepared;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly Address _coordinatorAddress;
    private readonly ActorSelection _coordinatorPath;
    private IActorRef? _coordinator;
    private bool _coordinatorConnected = true;
    private LocalNode? _node;

    public WorkerActor(WorkerOptions options, TaskCompletionSource<int> exit, Action<LocalNode> prepared)
    {
        _options = options;
        _exit = exit;
        _prepared = prepared;
        _cluster = Akka.Cluster.Cluster.Get(Context.System);
        _coordinatorAddress = new Address("akka.tcp", ClusterSetup.SystemName, options.JoinHost, options.JoinPort);
        _coordinatorPath = Context.ActorSelection(new RootActorPath(_coordinatorAddress) / "user" / ClusterSetup.CoordinatorActorName);
        Receive<HelloTick>(_ => SayHello());
        Receive<JoinTimedOut>(_ => Exit(ProcessBound.ExitCode, $"no run assigned within {options.JoinTimeout.TotalSeconds:F0} s (--join-timeout)"));
        Receive<WorkerRefused>(refused => Exit(2, "refused by the coordinator: " + refused.Reason));
        Receive<Assign>(OnAssign);
        Receive<Prepared>(prepared => _coordinator?.Tell(new WorkerReady(options.Name, prepared.Progress)));
        Receive<Status.Failure>(failure => Fail($"failed: {failure.Cause.GetType().Name}: {failure.Cause.Message}"));
        Receive<StartRun>(_ => _node?.Begin());
        Receive<OpenWindow>(_ => _node?.StartWindow());
        Receive<CloseWindow>(_ => _node?.StopWindow());
        Receive<Finish>(OnFinish);
        Receive<Finished>(finished =>
        {
            _coordinator?.Tell(new WorkerResult(options.Name, finished.Result));
            Timers.StartSingleTimer("dismiss", DismissTimedOut.Instance, DismissWait);
        });
        Receive<Dismiss>(_ => Exit(0, null));
        Receive<DismissTimedOut>(_ => Exit(0, "not dismissed after its result; leaving"));
        Receive<ClusterEvent.UnreachableMember>(e => OnCoordinatorTrouble(e.Member.Address, e.Member.HasRole(ClusterSetup.CoordinatorRole), "unreachable"));
        Receive<ClusterEvent.MemberRemoved>(e => OnCoordinatorTrouble(e.Member.Address, e.Member.HasRole(ClusterSetup.CoordinatorRole), "gone from the cluster"));
        Receive<DisassociatedEvent>(e =>
        {
            if (e.RemoteAddress == _coordinatorAddress)
            {
                _coordinatorConnected = false;
                OnCoordinatorTrouble(e.RemoteAddress, true, "disconnected");
            }
        });
        Receive<AssociatedEvent>(e => _coordinatorConnected |= e.RemoteAddress == _coordinatorAddress);
        Receive<RemotingLifecycleEvent>(_ => { });
        Receive<ClusterEvent.ReachableMember>(e =>
        {
            if (e.Member.HasRole(ClusterSetup.CoordinatorRole))
            {
                Timers.Cancel("lost");
            }
        });
        Receive<CoordinatorLost>(_ => OnCoordinatorLost());
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.IReachabilityEvent>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="prepared">Told of the clients' node once it exists, so the process can stop it on the way out.</param>
    public static Props Props(WorkerOptions options, TaskCompletionSource<int> exit, Action<LocalNode> prepared) =>
        Akka.Actor.Props.Create(() => new WorkerActor(options, exit, prepared));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        // A dropped connection is the first sign of a killed coordinator, seconds before the failure detector's verdict.
        Context.System.EventStream.Subscribe(Self, typeof(RemotingLifecycleEvent));
        Timers.StartPeriodicTimer("hello", HelloTick.Instance, HelloPeriod);
        Timers.StartSingleTimer("join", JoinTimedOut.Instance, _options.JoinTimeout);
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
    }

    private void SayHello()
    {
        // Only a member that is up can be watched and reached back; before that, the hello would be premature.
        if (_cluster.SelfMember.Status == MemberStatus.Up)
        {
            _coordinatorPath.Tell(new WorkerHello(_options.Name, Environment.ProcessId, Environment.MachineName));
        }
    }

    private void OnAssign(Assign assign)
    {
        if (_node is not null)
        {
            return;
        }
        Timers.Cancel("hello");
        Timers.Cancel("join");
        _coordinator = Sender;
        try
        {
            var options = LoadOptions.Parse([.. assign.Args]);
            // From here on, the run's own bound: ramp timeout + warm-up + duration + drain + 30 s.
            ProcessBound.Arm(options.HardLimit, $"worker {_options.Name}");
            _node = LocalNode.Prepare(options, _options.Name);
            _prepared(_node);
        }
        catch (Exception e) when (e is UsageException or IOException or UnauthorizedAccessException)
        {
            Fail(e.Message);
            return;
        }
        _node.Samples().RunWith(StreamRefs.SourceRef<ProgressSample>(), Context.System.Materializer()).PipeTo(Self, success: r => new Prepared(r));
    }

    private void OnFinish(Finish finish)
    {
        if (_node is null)
        {
            return;
        }
        _node.FinishAsync(finish.Drain).PipeTo(Self, success: r => new Finished(r));
    }

    /// <summary>The first sign of trouble starts the clock; the verdict comes when it runs out (<see cref="OnCoordinatorLost"/>).</summary>
    private void OnCoordinatorTrouble(Address address, bool isCoordinator, string what)
    {
        // Before the worker is up, a refused connection only means the coordinator is not there yet: the join timeout rules.
        if (!isCoordinator || _cluster.SelfMember.Status != MemberStatus.Up || Timers.IsTimerActive("lost"))
        {
            return;
        }
        Console.Error.WriteLine($"worker {_options.Name}: the coordinator at {address.Host}:{address.Port} is {what}; stopping in {ClusterSetup.CoordinatorLossLimit.TotalSeconds:F0} s unless it is back");
        Timers.StartSingleTimer("lost", CoordinatorLost.Instance, ClusterSetup.CoordinatorLossLimit);
    }

    /// <summary>Stops unless the coordinator is connected and a reachable member again (a connection that dropped and came back).</summary>
    private void OnCoordinatorLost()
    {
        var state = _cluster.State;
        var member = state.Members.FirstOrDefault(m => m.Address == _coordinatorAddress);
        var unreachable = state.Unreachable.Any(m => m.Address == _coordinatorAddress);
        if (_coordinatorConnected && member is not null && !unreachable && member.Status == MemberStatus.Up)
        {
            Console.Error.WriteLine($"worker {_options.Name}: the coordinator is reachable again; carrying on");
            return;
        }
        Exit(LostCoordinatorExitCode,
            $"lost the coordinator at {_coordinatorAddress.Host}:{_coordinatorAddress.Port} for {ClusterSetup.CoordinatorLossLimit.TotalSeconds:F0} s; stopping");
    }

    private void Fail(string reason)
    {
        _coordinator?.Tell(new AssignFailed(_options.Name, reason));
        Exit(2, reason);
    }

    private void Exit(int code, string? why)
    {
        if (why is not null)
        {
            Console.Error.WriteLine($"worker {_options.Name}: {why}");
        }
        _exit.TrySetResult(code);
    }
}
