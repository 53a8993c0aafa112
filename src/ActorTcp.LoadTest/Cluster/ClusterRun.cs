// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using Akka.Actor;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>
/// The coordinator's cluster: it forms a cluster of its own on --cluster-host/--cluster-port, starts the local worker
/// processes, waits for them and for --workers from elsewhere, gives each its share of the clients, and starts them
/// all once every one is prepared.
/// </summary>
internal sealed class ClusterRun : IAsyncDisposable
{
    // Time for every worker to prepare its clients once assigned (a --file-local to read, an actor system to start).
    public static readonly TimeSpan PrepareTimeout = TimeSpan.FromSeconds(30);

    private readonly ActorSystem _system;
    private readonly LocalWorkers _locals;
    private readonly Roster _roster;

    private ClusterRun(ActorSystem system, LocalWorkers locals, Roster roster)
    {
        _system = system;
        _locals = locals;
        _roster = roster;
    }

    public IReadOnlyList<RemoteWorker> Workers => _roster.Workers;

    /// <summary>How long a local worker waits to be assigned: the coordinator's join timeout, then the assignment.</summary>
    public static TimeSpan LocalJoinTimeout(LoadOptions options) => options.JoinTimeout + PrepareTimeout;

    /// <summary>Forms the run; returns it with every worker prepared, or a message saying who is missing and why.</summary>
    public static async Task<(ClusterRun? Run, string? Error)> AssembleAsync(LoadOptions options, Action<ProgressSample> onSample, TextWriter log)
    {
        var (system, bindError) = ClusterSetup.TryCreate(ClusterSetup.CoordinatorRole, options.ClusterHost, options.ClusterPort, seed: null);
        if (system is null)
        {
            return (null, bindError);
        }
        var cluster = Akka.Cluster.Cluster.Get(system);
        cluster.Join(cluster.SelfAddress);
        var port = cluster.SelfAddress.Port ?? 0;
        var roster = new Roster(LocalWorkers.NamesFor(options.Processes), options.Workers, onSample);
        system.ActorOf(CoordinatorActor.Props(roster), ClusterSetup.CoordinatorActorName);
        var locals = LocalWorkers.Start(options.Processes, options.ClusterHost, port, LocalJoinTimeout(options));
        var run = new ClusterRun(system, locals, roster);
        log.WriteLine(options.Workers == 0
            ? $"cluster {options.ClusterHost}:{port}: waiting for {options.Processes} local worker(s)"
            : $"cluster {options.ClusterHost}:{port}: waiting for {options.Processes} local worker(s) and {options.Workers} from elsewhere; "
              + $"on each machine run: ActorTcp.LoadTest worker --join {options.ClusterHost}:{port} --cluster-host <its address>");

        var error = await run.WaitForWorkersAsync(options) ?? await run.AssignAsync(options);
        if (error is not null)
        {
            await run.DisposeAsync();
            return (null, error);
        }
        return (run, null);
    }

    /// <summary>Every worker starts its ramp on the same message.</summary>
    public void StartAll()
    {
        foreach (var worker in Workers)
        {
            worker.Start();
        }
    }

    /// <summary>For a lost worker started here: its process and last output.</summary>
    public string Describe(RemoteWorker worker) =>
        _locals.PidOf(worker.Name) is null ? worker.Description : _locals.Describe(worker.Name);

    public void KillLocalWorkers() => _locals.Kill();

    public async ValueTask DisposeAsync()
    {
        foreach (var worker in Workers)
        {
            await worker.DisposeAsync();
        }
        await _locals.StopAsync(TimeSpan.FromSeconds(15));
        // Leaving lets the workers elsewhere see a clean exit rather than a lost coordinator.
        await Task.WhenAny(CoordinatedShutdown.Get(_system).Run(CoordinatedShutdown.ClrExitReason.Instance), Task.Delay(TimeSpan.FromSeconds(10)));
        await Task.WhenAny(_system.Terminate(), Task.Delay(TimeSpan.FromSeconds(5)));
    }

    private async Task<string?> WaitForWorkersAsync(LoadOptions options)
    {
        var deadline = Task.Delay(options.JoinTimeout);
        while (!_roster.AllJoined.IsCompleted)
        {
            var (local, _, _) = _roster.Missing();
            if (_locals.FirstExited(local) is { } dead)
            {
                return $"local worker {_locals.Describe(dead)} ended before it joined the run";
            }
            if (await Task.WhenAny(_roster.AllJoined, deadline, Task.Delay(200)) == deadline)
            {
                break;
            }
        }
        if (_roster.AllJoined.IsCompleted)
        {
            return null;
        }
        var (missingLocal, missingRemote, joined) = _roster.Missing();
        var parts = missingLocal.Select(_locals.Describe).ToList();
        if (missingRemote > 0)
        {
            parts.Add($"{missingRemote} of the {options.Workers} worker(s) from elsewhere (--workers {options.Workers})");
        }
        return $"{missingLocal.Count + missingRemote} of {_roster.Expected} worker(s) did not join within {options.JoinTimeout.TotalSeconds:F0} s "
            + $"(--join-timeout): missing {string.Join("; ", parts)}; joined: {(joined.Count == 0 ? "none" : string.Join(", ", joined))}";
    }

    /// <summary>
    /// Contiguous ranges of the global client index, the ramp in proportion: a client's port and source address
    /// follow from its global index, so the run as a whole spreads over every port and source whoever holds it.
    /// </summary>
    private async Task<string?> AssignAsync(LoadOptions options)
    {
        var workers = Workers;
        if (options.Clients < workers.Count)
        {
            return $"--clients {options.Clients} is fewer than the run's {workers.Count} workers";
        }
        var offset = 0;
        for (var i = 0; i < workers.Count; i++)
        {
            var clients = options.Clients / workers.Count + (i < options.Clients % workers.Count ? 1 : 0);
            var ramp = options.Ramp * clients / options.Clients;
            workers[i].Assign(options.ToWorkerArgs(clients, offset, ramp), clients);
            offset += clients;
        }
        var prepared = Task.WhenAll(workers.Select(w => w.Ready));
        await Task.WhenAny(prepared, Task.Delay(PrepareTimeout));
        var failures = workers
            .Select(w => (Worker: w, Reason: w.Ready.IsCompleted ? w.Ready.Result : $"not prepared within {PrepareTimeout.TotalSeconds:F0} s"))
            .Where(f => f.Reason is not null)
            .Select(f => $"{Describe(f.Worker)}: {f.Reason}")
            .ToList();
        return failures.Count == 0 ? null : "worker(s) could not prepare their share: " + string.Join("; ", failures);
    }
}
