// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Metrics;
using Akka.Actor;
using Akka.Cluster;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// The run's side of the cluster, at <c>/user/coordinator</c>: takes workers in as they say hello (up to the number
/// expected), watches each (its actor by DeathWatch, its member by reachability), pulls each worker's progress
/// stream, and hands all of it to the <see cref="Roster"/> that the run's phases read.
/// </summary>
internal sealed class CoordinatorActor : ReceiveActor
{
    private sealed record SamplesEnded(string Worker);

    private sealed record SamplesFailed(string Worker, Exception Cause);

    private readonly Roster _roster;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly IMaterializer _materializer;

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
        Receive<ClusterEvent.UnreachableMember>(e => LostAt(e.Member, "unreachable: no cluster heartbeat for 5 s (killed, hung or cut off)"));
        Receive<ClusterEvent.MemberRemoved>(e => LostAt(e.Member, "left the cluster before the run ended"));
        Receive<ClusterEvent.IMemberEvent>(_ => { });
        Receive<ClusterEvent.IReachabilityEvent>(_ => { });
    }

    public static Props Props(Roster roster) => Akka.Actor.Props.Create(() => new CoordinatorActor(roster));

    protected override void PreStart() =>
        _cluster.Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
            typeof(ClusterEvent.IMemberEvent), typeof(ClusterEvent.IReachabilityEvent));

    protected override void PostStop() => _cluster.Unsubscribe(Self);

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

    private void LostAt(Member member, string reason)
    {
        foreach (var worker in _roster.AtAddress(member.Address))
        {
            worker.OnLost(reason);
        }
    }
}
