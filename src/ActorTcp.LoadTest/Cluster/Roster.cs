// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Metrics;
using Akka.Actor;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// Who is in the run: the local workers by the names this command gave them, and up to <c>remote</c> workers from
/// elsewhere in the order they joined. Written by the <see cref="CoordinatorActor"/>, read by the run's phases.
/// </summary>
internal sealed class Roster(IReadOnlyList<string> localNames, int remote, Action<ProgressSample> onSample)
{
    internal abstract record Admission
    {
        public sealed record Admitted : Admission;

        public sealed record Repeated : Admission;

        public sealed record Refused(string Reason) : Admission;
    }

    private readonly object _gate = new();
    private readonly List<RemoteWorker> _joined = [];
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int Expected => localNames.Count + remote;

    /// <summary>Completes when every expected worker has said hello.</summary>
    public Task AllJoined => _all.Task;

    /// <summary>Local workers first, in the order they were started, then the others in the order they joined.</summary>
    public IReadOnlyList<RemoteWorker> Workers
    {
        get
        {
            lock (_gate)
            {
                return [.. _joined.OrderBy(w => localNames.Contains(w.Name) ? localNames.ToList().IndexOf(w.Name) : localNames.Count)];
            }
        }
    }

    public Admission Admit(WorkerHello hello, IActorRef actor, IActorRef coordinator)
    {
        lock (_gate)
        {
            if (_joined.Find(w => w.Name == hello.Name) is { } known)
            {
                return known.Actor.Equals(actor)
                    ? new Admission.Repeated()
                    : new Admission.Refused($"another worker of this run is already called {hello.Name}; give --name");
            }
            var isLocal = localNames.Contains(hello.Name);
            var remotes = _joined.Count(w => !localNames.Contains(w.Name));
            if (!isLocal && remotes >= remote)
            {
                return new Admission.Refused(remote == 0
                    ? "this run takes no workers from elsewhere (its coordinator has no --workers)"
                    : $"this run already has its {remote} worker(s) from elsewhere (--workers {remote})");
            }
            _joined.Add(new RemoteWorker(hello.Name, actor, hello.Pid, hello.Machine, coordinator));
            if (_joined.Count == Expected)
            {
                _all.TrySetResult();
            }
            return new Admission.Admitted();
        }
    }

    public RemoteWorker? Find(string name)
    {
        lock (_gate)
        {
            return _joined.Find(w => w.Name == name);
        }
    }

    public RemoteWorker? FindByActor(IActorRef actor)
    {
        lock (_gate)
        {
            return _joined.Find(w => w.Actor.Equals(actor));
        }
    }

    public IReadOnlyList<RemoteWorker> AtAddress(Address address)
    {
        lock (_gate)
        {
            return [.. _joined.Where(w => w.Address == address)];
        }
    }

    public void OnSample(ProgressSample sample)
    {
        Find(sample.Worker)?.OnSample(sample);
        onSample(sample);
    }

    /// <summary>Names the local workers that have not joined, and how many from elsewhere are still awaited.</summary>
    public (IReadOnlyList<string> Local, int Remote, IReadOnlyList<string> Joined) Missing()
    {
        lock (_gate)
        {
            var joined = _joined.Select(w => w.Name).ToList();
            var remotes = _joined.Count(w => !localNames.Contains(w.Name));
            return ([.. localNames.Where(n => !joined.Contains(n))], remote - remotes, joined);
        }
    }
}
