// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net.Security;
using System.Reflection;
using ActorTcp.Cluster;
using ActorTcp.Configuration;
using ActorTcp.Files;
using ActorTcp.Listening;
using ActorTcp.Sessions;
using ActorTcp.Transport;
using ActorTcp.Heartbeat;
using ActorTcp.Observability;
using System.Diagnostics.Metrics;
using Akka;
using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Configuration;
using Akka.Hosting;
using Akka.Remote.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Server;

internal static class ActorTcpHosting
{
    public const string SystemName = "actor-tcp";

    /// <summary>The version STATS and --version report.</summary>
    public static string Version { get; } =
        typeof(ActorTcpHosting).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
            .Split('+')[0] ?? "0.0.0";

    /// <summary>
    /// Adds the actor system and the server's actors: the heartbeat supervisor, then the listener (which binds
    /// at once and reports through <see cref="BindingStatus"/>), and the shutdown steps: stop accepting, then drain.
    /// </summary>
    public static IServiceCollection AddActorTcp(
        this IServiceCollection services, Config config, ServerSettings settings, FileStore store, SslStreamCertificateContext? tls)
    {
        var status = new BindingStatus();
        services.AddSingleton(settings);
        services.AddSingleton(status);
        services.AddMetrics();
        services.AddAkka(SystemName, (builder, provider) =>
        {
            builder
                .AddHocon(ShutdownConfig(settings), HoconAddMode.Prepend)
                .AddHocon(config, HoconAddMode.Append)
                .ConfigureLoggers(loggers =>
                {
                    loggers.ClearLoggers();
                    loggers.AddLoggerFactory();
                });
            if (settings.Cluster is { } cluster) AddClustering(builder, cluster, config);
            builder
                .WithActors((system, _) =>
                {
                    var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("ActorTcp");
                    var stats = new ServerStats(Version, system.Scheduler.Now);
                    var files = new FileService(store, new DownloadQuota(settings.MaxDownloads));
                    // The listener creates a session per connection and hears each one end, and the heartbeat hears of
                    // each new one: where the sessions run on the epoll loops, so do they, and a connection's arrival
                    // and end cost no hand-over to the pool.
                    var onLoops = EpollLoops.Supported && system.Settings.Config.HasPath(LoopExecutorConfigurator.DispatcherPath);
                    Props OnLoops(Props props) => onLoops ? props.WithDispatcher(LoopExecutorConfigurator.DispatcherPath) : props;
                    var heartbeat = system.ActorOf(
                        OnLoops(HeartbeatSupervisor.Props(settings.HeartbeatTick, settings.IdleTimeout, settings.HandshakeTimeout)), "heartbeat");
                    // The meter always exists, and costs nothing until a reader (an exporter, dotnet-counters) listens.
                    var metrics = new ServerMetrics(provider.GetRequiredService<IMeterFactory>(), stats,
                        () => files.Downloads.Running, settings.MaxConnections, settings.DescriptorLimit);
                    IActorRef? registry = null;
                    var keys = new SessionKeys();
                    if (settings.Cluster is { } cluster)
                    {
                        // UDP heartbeat keys carry this node's mark, so any member can pass a heartbeat to its owner.
                        keys = new SessionKeys(SessionKeys.TagFor(MemberView.NameOf(Akka.Cluster.Cluster.Get(system).SelfAddress)));
                        registry = system.ActorOf(NodeRegistry.Props(stats, cluster, keys, logger), NodeRegistry.Name);
                        JoinCluster(system, cluster, logger);
                    }
                    var parts = new ListenerParts(settings, stats, files, keys, tls, logger, status, metrics, registry);
                    var listener = system.ActorOf(OnLoops(ListenerActor.Props(parts, heartbeat)), "listener");
                    AddShutdownSteps(system, listener, settings);
                });
        });
        return services;
    }

    private static void AddShutdownSteps(ActorSystem system, IActorRef listener, ServerSettings settings)
    {
        var shutdown = CoordinatedShutdown.Get(system);
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceUnbind, "stop-accepting", async () =>
        {
            await listener.Ask<StoppedAccepting>(StopAccepting.Instance, TimeSpan.FromSeconds(10));
            return Done.Instance;
        });
        shutdown.AddTask(CoordinatedShutdown.PhaseServiceRequestsDone, "drain-clients", async () =>
        {
            await listener.Ask<Drained>(new Drain(settings.DrainTimeout), settings.DrainTimeout + DrainMargin);
            return Done.Instance;
        });
    }

    /// <summary>
    /// Akka.Remote on the cluster port and Akka.Cluster with Akka's defaults (the split-brain resolver keeps the
    /// majority). CoordinatedShutdown then runs drain (service-requests-done), leave (cluster-leave, cluster-exiting),
    /// exit, in that order. The defaults below come after the user's configuration, so an `akka { }` overlay wins.
    /// </summary>
    private static void AddClustering(AkkaConfigurationBuilder builder, ClusterSettings cluster, Config user)
    {
        builder.AddHocon(ClusterDefaults(), HoconAddMode.Append);
        // AddAkka appends Akka.Streams' defaults before anything else (so that stream refs serialize from the start),
        // which puts its 30 s ahead of every later Append: this one must be prepended, unless the user set it.
        if (!user.HasPath(StreamRefSubscriptionTimeout))
            builder.AddHocon(
                $"{StreamRefSubscriptionTimeout} = {(long)(cluster.AskTimeout + TimeSpan.FromSeconds(3)).TotalMilliseconds}ms",
                HoconAddMode.Prepend);
        builder
            .WithRemoting(new RemoteOptions { HostName = cluster.Host, Port = cluster.Port })
            .WithClustering(new ClusterOptions
            {
                SeedNodes = cluster.SeedNodes.Select(seed => $"akka.tcp://{SystemName}@{seed}").ToArray(),
            });
    }

    /// <summary>An offer whose stream is never pulled (its asker gave up) holds its snapshot of names this long (30 s by default).</summary>
    private const string StreamRefSubscriptionTimeout = "akka.stream.materializer.stream-ref.subscription-timeout";

    private static Config ClusterDefaults() => ConfigurationFactory.ParseString($$"""
        akka.actor {
          serializers.actor-tcp-cluster = "{{Qualified(typeof(ClusterSerializer))}}"
          serialization-bindings { "{{Qualified(typeof(IClusterMessage))}}" = actor-tcp-cluster }
        }
        # .NET's ReuseAddress also sets SO_REUSEPORT on Linux: a second node could then bind the same cluster port
        # silently and take half of the first one's connections. A cluster port is never shared.
        akka.remote.dot-netty.tcp.tcp-reuse-addr = off
        """);

    private static string Qualified(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";

    /// <summary>With no seed the node forms a cluster by itself; with seeds Akka joins them (and retries forever).</summary>
    private static void JoinCluster(ActorSystem system, ClusterSettings settings, ILogger logger)
    {
        var cluster = Akka.Cluster.Cluster.Get(system);
        logger.LogInformation("Cluster node {Node} ({UniqueAddress}); seeds {Seeds}",
            MemberView.NameOf(cluster.SelfAddress), cluster.SelfUniqueAddress, settings.SeedNodes.Count == 0 ? "none: a new cluster" : string.Join(", ", settings.SeedNodes));
        if (settings.SeedNodes.Count == 0) cluster.Join(cluster.SelfAddress);
    }

    /// <summary>Time past drain-timeout for the cut transfers' sessions to stop and the drain to be reported.</summary>
    public static readonly TimeSpan DrainMargin = TimeSpan.FromSeconds(5);

    private static Config ShutdownConfig(ServerSettings settings)
    {
        var drain = (long)(settings.DrainTimeout + DrainMargin + TimeSpan.FromSeconds(1)).TotalMilliseconds;
        return ConfigurationFactory.ParseString(
            $"akka.coordinated-shutdown.phases.service-requests-done.timeout = {drain}ms");
    }
}
