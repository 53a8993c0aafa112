// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Running;
using Akka.Actor;

namespace ActorTcp.LoadTest.Cluster;

/// <summary><c>ActorTcp.LoadTest worker --join HOST:PORT</c>: one cluster member that runs the share it is given.</summary>
internal static class WorkerProgram
{
    // Slack past --join-timeout for the worker actor's own verdict to be the one that ends the process.
    private static readonly TimeSpan JoinSlack = TimeSpan.FromSeconds(15);

    public static async Task<int> RunAsync(WorkerOptions options)
    {
        // Until a run is assigned, the bound is the join timeout; the assignment moves it to the run's own.
        ProcessBound.Arm(options.JoinTimeout + JoinSlack, $"worker {options.Name}");
        var seed = $"{options.JoinHost}:{options.JoinPort}";
        var (system, error) = ClusterSetup.TryCreate(ClusterSetup.WorkerRole, options.ClusterHost, options.ClusterPort, seed);
        if (system is null)
        {
            Console.Error.WriteLine($"worker {options.Name}: {error}");
            return 2;
        }
        var self = Akka.Cluster.Cluster.Get(system).SelfAddress;
        Console.Error.WriteLine($"worker {options.Name}: cluster {self.Host}:{self.Port}, joining the coordinator at {seed}");
        var exit = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        LocalNode? node = null;
        system.ActorOf(WorkerActor.Props(options, exit, prepared => Volatile.Write(ref node, prepared)), ClusterSetup.WorkerActorName);
        // Ctrl-C or SIGTERM: leave as after a run (the coordinator sees a member leave and reports this worker as lost).
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            exit.TrySetResult(130);
        };
        var code = await exit.Task;
        if (code == WorkerActor.LostCoordinatorExitCode)
        {
            // Nobody is left to leave gracefully for; the process's end closes the clients' sockets.
            await Task.WhenAny(system.Terminate(), Task.Delay(TimeSpan.FromSeconds(1)));
            return code;
        }
        if (Volatile.Read(ref node) is { } clients)
        {
            await clients.DisposeAsync();
        }
        await Task.WhenAny(CoordinatedShutdown.Get(system).Run(CoordinatedShutdown.ClrExitReason.Instance), Task.Delay(TimeSpan.FromSeconds(10)));
        await Task.WhenAny(system.Terminate(), Task.Delay(TimeSpan.FromSeconds(5)));
        return code;
    }
}
