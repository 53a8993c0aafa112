// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Metrics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Remote;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// The run's side of the cluster, at <c>/user/coordinator</c>: takes workers in as they say hello (up to the number
/// expected), watches each (its actor by DeathWatch, its member by reachability), pulls each worker's progress
/// stream, and hands all of it to the <see cref="Roster"/> that the run's phases read.
/// </summary>
internal sealed class CoordinatorActor : ReceiveActor, IWithTimers
{
    private sealed record SamplesEnded(string Worker);

    private sealed record SamplesFailed(string Worker, Exception Cause);

    private sealed record ConfirmGone(Address Address);

    private readonly Roster _roster;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly IMaterializer _materializer;
    private readonly HashSet<Address> _disconnected = [];

    public CoordinatorActor(Roster roster)
    {
        _roster = roster;
        _cluster = Akka.Cluster.Cluster.Get(Context.System);
        _materializer = Context.System.Materializer();
        Receive<WorkerHello>(OnHello);
        Receive<WorkerReady>(OnReady);
        Receive<AssignFailed>(failed => _roster.Find(failed.Name)?.OnAssignFailed(failed.Reason));
        Receive<ProgressSample>(_roster.OnSample);
        Receive<WorkerResult>(result => _roster.Find(result.Name)?.OnResult(result.Result));
        Receive<SamplesEnded>(_ => { });
        // The member's loss says more (and comes with it); a stream failing alone is only a note.
        Receive<SamplesFailed>(_ => { });
        Receive<Terminated>(t => _roster.FindByActor(t.ActorRef)?.OnLost("its worker actor stopped (the process exited or left the cluster)"));
        Receive<ClusterEvent.UnreachableMember>(e => LostAt(e.Member.Address, "unreachable: no cluster heartbeat for 20 s (hung or cut off)"));
        Receive<ClusterEvent.MemberRemoved>(e => LostAt(e.Member.Address, "left the cluster before the run ended"));
        // A killed process drops its connection at once, long before the failure detector's verdict.
        Receive<DisassociatedEvent>(e =>
        {
            if (_disconnected.Add(e.RemoteAddress))
            {
                Timers.StartSingleTimer(e.RemoteAddress, new ConfirmGone(e.RemoteAddress), ClusterSetup.ReconnectGrace);
            }
        });
        Receive<AssociatedEvent>(e => _disconnected.Remove(e.RemoteAddress));
        Receive<ConfirmGone>(gone =>
        {
            if (_disconnected.Contains(gone.Address))
            {
                LostAt(gone.Address, $"its connection dropped and could not be made again within {ClusterSetup.ReconnectGrace.TotalSeconds:F0} s (the process ended)");
            }
        });
        Receive<RemotingLifecycleEvent>(_ => { });
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.IReachabilityEvent>(_ => { });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(Roster roster) => Akka.Actor.Props.Create(() => new CoordinatorActor(roster));

    protected override void PreStart()
    {
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));
        Context.System.EventStream.Subscribe(Self, typeof(RemotingLifecycleEvent));
    }

    protected override void PostStop()
    {
        _cluster.Unsubscribe(Self);
        Context.System.EventStream.Unsubscribe(Self);
    }

    private void OnHello(WorkerHello hello)
    {
        switch (_roster.Admit(hello, Sender, Self))
        {
            case Roster.Admission.Admitted:
                Context.Watch(Sender);
                Console.Error.WriteLine($"worker {hello.Name} joined (pid {hello.Pid} on {hello.Machine}, {Sender.Path.Address.Host}:{Sender.Path.Address.Port})");
                break;
            case Roster.Admission.Refused refused:
                Sender.Tell(new WorkerRefused(refused.Reason));
                break;
        }
    }

    private void OnReady(WorkerReady ready)
    {
        if (_roster.Find(ready.Name) is not { } worker)
        {
            return;
        }
        var name = ready.Name;
        ready.Progress.Source.RunWith(Sink.ActorRef<ProgressSample>(Self, new SamplesEnded(name), e => new SamplesFailed(name, e)), _materializer);
        worker.OnReady();
    }

    private void LostAt(Address address, string reason)
    {
        foreach (var worker in _roster.AtAddress(address))
        {
            worker.OnLost(reason);
        }
    }
}
