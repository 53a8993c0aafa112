// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net.Security;
using System.Reflection;
using ActorTcp.Configuration;
using ActorTcp.Files;
using ActorTcp.Listening;
using ActorTcp.Sessions;
using ActorTcp.Heartbeat;
using ActorTcp.Observability;
using System.Diagnostics.Metrics;
using Akka;
using Akka.Actor;
using Akka.Configuration;
using Akka.Hosting;
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
                })
                .WithActors((system, _) =>
                {
                    var logger = provider.GetRequiredService<ILoggerFactory>().CreateLogger("ActorTcp");
                    var stats = new ServerStats(Version, system.Scheduler.Now);
                    var files = new FileService(store, new DownloadQuota(settings.MaxDownloads));
                    var heartbeat = system.ActorOf(
                        HeartbeatSupervisor.Props(settings.HeartbeatTick, settings.IdleTimeout, settings.HandshakeTimeout), "heartbeat");
                    // The meter always exists, and costs nothing until a reader (an exporter, dotnet-counters) listens.
                    var metrics = new ServerMetrics(provider.GetRequiredService<IMeterFactory>(), stats,
                        () => files.Downloads.Running, settings.MaxConnections, settings.DescriptorLimit);
                    var parts = new ListenerParts(settings, stats, files, new SessionKeys(), tls, logger, status, metrics);
                    var listener = system.ActorOf(ListenerActor.Props(parts, heartbeat), "listener");
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

    /// <summary>Time past drain-timeout for the cut transfers' sessions to stop and the drain to be reported.</summary>
    public static readonly TimeSpan DrainMargin = TimeSpan.FromSeconds(5);

    private static Config ShutdownConfig(ServerSettings settings)
    {
        var drain = (long)(settings.DrainTimeout + DrainMargin + TimeSpan.FromSeconds(1)).TotalMilliseconds;
        return ConfigurationFactory.ParseString(
            $"akka.coordinated-shutdown.phases.service-requests-done.timeout = {drain}ms");
    }
}
