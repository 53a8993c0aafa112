// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Clients;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.Transport;
using ActorTcp.LoadTest.Options;
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace ActorTcp.LoadTest.Running;

/// <summary>A share of the clients: in this process, or in a worker process of the run's cluster.</summary>
internal interface ILoadNode : IAsyncDisposable
{
    string Name { get; }

    Progress Progress { get; }

    /// <summary>Why this share is gone mid-run (its process died or fell silent); null while it runs.</summary>
    string? Lost { get; }

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
          coordinated-shutdown.run-by-actor-system-terminate = on
          coordinated-shutdown.exit-clr = off
        }
        # The clients' turns run on the epoll loops that read their sockets, as the server's sessions do: a reply is
        # read, checked and answered on one thread (used where the loops run; see RunContext.Dispatcher).
        load-test-clients-dispatcher {
          type = Dispatcher
          executor = "ActorTcp.Transport.LoopExecutorConfigurator, ActorTcp"
          throughput = 30
        }
        """;

    private readonly ActorSystem _system;
    private readonly LoadMetrics _metrics;
    private readonly IActorRef _driver;
    private readonly TaskCompletionSource _allFinished = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly int _clients;
    private readonly ProgressSampler _sampler;
    private volatile bool _began;

    private LocalNode(LoadOptions options, string name)
    {
        Name = name;
        _clients = options.Clients;
        _metrics = new LoadMetrics();
        // Reads and checks --file-local before any actor exists: a bad share fails here, as a message.
        var run = new RunContext(options, _metrics);
        _sampler = new ProgressSampler(name, _metrics, _clients);
        _system = ActorSystem.Create("clients", ConfigurationFactory.ParseString(AkkaConfig));
        // Tens of thousands of idle clients: their mailbox keeps about 160 B while empty, Akka's default about 1 KB.
        run.Mailbox = ClientMailbox.Register(_system);
        if (EpollLoops.Supported) run.Dispatcher = "load-test-clients-dispatcher";
        _driver = _system.ActorOf(LoadDriver.Props(run, options.Clients, options.ClientOffset, _allFinished), "clients");
    }

    /// <summary>The clients of <paramref name="options"/>, ready to start (see <see cref="Begin"/>).</summary>
    public static LocalNode Prepare(LoadOptions options, string name) => new(options, name);

    public string Name { get; }

    public string? Lost => null;

    public Progress Progress => _metrics.Snapshot(_clients);

    /// <summary>Starts the ramp; progress seconds count from here.</summary>
    public void Begin()
    {
        _sampler.Restart();
        _began = true;
        _driver.Tell(BeginRamp.Instance);
    }

    /// <summary>One sample a second once the ramp has begun, until the stream is cancelled or its system ends.</summary>
    public Source<ProgressSample, ICancelable> Samples() =>
        Source.Tick(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 0)
            .Where(_ => _began)
            .Select(_ => _sampler.Next());

    /// <summary>For a run in this process: the samples, handled on this node's own actor system.</summary>
    public void RunSamples(Action<ProgressSample> handle) => Samples().RunForeach(handle, _system.Materializer());

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
