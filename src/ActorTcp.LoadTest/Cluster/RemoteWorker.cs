// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Running;
using Akka.Actor;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// The coordinator's handle on one worker of the cluster: commands go to its actor as messages, and what comes back
/// (readiness, samples, the result, or its loss) is set here by the <see cref="CoordinatorActor"/>.
/// </summary>
/// <param name="coordinator">The sender of every command, so that the worker knows where to answer.</param>
internal sealed class RemoteWorker(string name, IActorRef actor, int pid, string machine, IActorRef coordinator) : ILoadNode
{
    // Time past the drain for a worker to stop its clients and send its result.
    private static readonly TimeSpan ResultGrace = TimeSpan.FromSeconds(30);

    private readonly TaskCompletionSource<string?> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource<NodeResult> _result = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _lostSignal = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Progress _progress = new();
    private volatile string? _lost;

    public string Name => name;

    public IActorRef Actor => actor;

    public Address Address => actor.Path.Address;

    /// <summary>How the report names it: name, process and machine.</summary>
    public string Description => $"{name} (pid {pid} on {machine}, {Address.Host}:{Address.Port})";

    public Progress Progress => Volatile.Read(ref _progress);

    public string? Lost => _lost;

    /// <summary>Completes with null once the worker's clients are prepared, or with the reason it could not prepare them.</summary>
    public Task<string?> Ready => _ready.Task;

    public void Assign(IReadOnlyList<string> args, int clients)
    {
        Volatile.Write(ref _progress, new Progress { Clients = clients });
        actor.Tell(new Assign(args), coordinator);
    }

    public void Start() => actor.Tell(StartRun.Instance, coordinator);

    public void StartWindow() => actor.Tell(OpenWindow.Instance, coordinator);

    public void StopWindow() => actor.Tell(CloseWindow.Instance, coordinator);

    public async Task<NodeResult> FinishAsync(TimeSpan drain)
    {
        if (_lost is null)
        {
            actor.Tell(new Finish(drain), coordinator);
            await Task.WhenAny(_result.Task, _lostSignal.Task, Task.Delay(drain + ResultGrace));
        }
        if (_result.Task.IsCompletedSuccessfully)
        {
            return _result.Task.Result;
        }
        OnLost(_lost ?? $"no result within the drain ({drain.TotalSeconds:F0} s) + {ResultGrace.TotalSeconds:F0} s");
        return LostResult();
    }

    public ValueTask DisposeAsync()
    {
        actor.Tell(Dismiss.Instance, coordinator);
        return ValueTask.CompletedTask;
    }

    internal void OnReady() => _ready.TrySetResult(null);

    internal void OnAssignFailed(string reason) => _ready.TrySetResult(reason);

    internal void OnSample(ProgressSample sample) => Volatile.Write(ref _progress, sample.Progress);

    internal void OnResult(NodeResult result)
    {
        // The last sample came before the drain: the result is the worker's final word on its progress too.
        Volatile.Write(ref _progress, Progress with
        {
            ClientsFinished = result.ClientsCompleted + result.ClientsFailed,
            ConnectedNow = 0,
            ReadyNow = 0,
            Ops = result.OpsTotal,
            Errors = result.Errors.Values.Sum(),
            ErrorKinds = new Dictionary<string, long>(result.Errors),
        });
        _result.TrySetResult(result);
    }

    /// <summary>The first reason wins; a worker that already sent its result has nothing left to lose.</summary>
    internal void OnLost(string reason)
    {
        if (_result.Task.IsCompleted || Interlocked.CompareExchange(ref _lost, reason, null) is not null)
        {
            return;
        }
        _ready.TrySetResult($"lost: {reason}");
        _lostSignal.TrySetResult();
    }

    /// <summary>What a lost worker had done, as far as its last sample told: every client it held counts as failed.</summary>
    private NodeResult LostResult()
    {
        var p = Progress;
        var clients = Math.Max(p.Clients, 0);
        var errors = new SortedDictionary<string, long>(p.ErrorKinds) { [$"worker lost: {name}"] = 1 };
        return new NodeResult
        {
            Processes = 1,
            Clients = clients,
            ClientsFailed = clients - Math.Min(clients, p.ClientsFinished),
            ConnectsStarted = p.ConnectsStarted,
            BytesInTotal = p.BytesIn,
            BytesOutTotal = p.BytesOut,
            Errors = errors,
            ErrorSamples = [$"worker {Description} was lost ({_lost}); it had started {p.ClientsStarted:N0} of {p.Clients:N0} clients, "
                + $"{p.ConnectedNow:N0} connected, {p.ClientsFinished:N0} finished, {p.Ops:N0} requests, {p.Errors:N0} errors"],
        };
    }
}
