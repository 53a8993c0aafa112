// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Clients;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using Akka.Actor;
using Akka.Configuration;

namespace ActorTcp.LoadTest.Running;

/// <summary>A share of the clients: in this process, or (for the parent of --processes) in a worker process.</summary>
internal interface ILoadNode : IAsyncDisposable
{
    Progress Progress { get; }

    void StartWindow();

    void StopWindow();

    /// <summary>Waits up to <paramref name="drain"/> for every client to finish, gives up on the rest, reports.</summary>
    Task<NodeResult> FinishAsync(TimeSpan drain);
}

/// <summary>Clients in this process: one actor system, one driver, one actor per client.</summary>
internal sealed class LocalNode : ILoadNode
{
    // Quiet by default: Akka's own log lines would tear the live view and a worker's report stream.
    private const string AkkaConfig = """
        akka {
          loglevel = ERROR
          stdout-loglevel = ERROR
          log-dead-letters = off
          log-dead-letters-during-shutdown = off
          io.tcp {
            # Reply lines and file chunks; a larger frame would cost every idle client memory for nothing.
            maximum-frame-size = 4k
            # Akka retries a failed connect on the same socket this many times; a refused client should
            # cost the server one SYN, not six, and be reported at once.
            finish-connect-retries = 0
          }
          coordinated-shutdown.run-by-actor-system-terminate = on
          coordinated-shutdown.exit-clr = off
        }
        """;

    private readonly ActorSystem _system;
    private readonly LoadMetrics _metrics;
    private readonly IActorRef _driver;
    private readonly TaskCompletionSource _allFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _clients;

    private LocalNode(LoadOptions options, int clients, int offset)
    {
        _clients = clients;
        _metrics = new LoadMetrics();
        var run = new RunContext(options, _metrics);
        _system = ActorSystem.Create("loadtest", ConfigurationFactory.ParseString(AkkaConfig));
        _driver = _system.ActorOf(LoadDriver.Props(run, clients, offset, _allFinished), "clients");
    }

    public static LocalNode Start(LoadOptions options) =>
        new(options, options.Clients, options.ClientOffset);

    public Progress Progress => _metrics.Snapshot(_clients);

    public void StartWindow() => _metrics.BeginWindow();

    public void StopWindow()
    {
        _metrics.EndWindow();
        _driver.Tell(StopAll.Instance);
    }

    public async Task<NodeResult> FinishAsync(TimeSpan drain)
    {
        if (await Task.WhenAny(_allFinished.Task, Task.Delay(drain)) != _allFinished.Task)
        {
            _driver.Tell(GiveUp.Instance);
            await Task.WhenAny(_allFinished.Task, Task.Delay(TimeSpan.FromSeconds(5)));
        }
        await Task.WhenAny(_system.Terminate(), Task.Delay(TimeSpan.FromSeconds(10)));
        return _metrics.Result(_clients);
    }

    public async ValueTask DisposeAsync() =>
        await Task.WhenAny(_system.Terminate(), Task.Delay(TimeSpan.FromSeconds(5)));
}
