using ActorTcp.Configuration;
using ActorTcp.Files;
using ActorTcp.Heartbeat;
using ActorTcp.Listening;
using ActorTcp.Sessions;
using Akka.Actor;
using Akka.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace ActorTcp.IntegrationTests;

/// <summary>
/// The server's actors in this test process, on real sockets bound to port 0: for what can only be counted from
/// inside, such as the bytes the server allocates per request across all its threads.
/// </summary>
internal sealed class InProcessServer : IAsyncDisposable
{
    private readonly ActorSystem _system;

    private InProcessServer(ActorSystem system, BoundEndpoints bound)
    {
        _system = system;
        TextPort = bound.Text.Port;
        BinaryPort = bound.Binary?.Port ?? 0;
        UdpPort = bound.Udp?.Port ?? 0;
    }

    public int TextPort { get; }

    public int BinaryPort { get; }

    public int UdpPort { get; }

    /// <summary>How many source addresses the UDP endpoint's rate table holds now.</summary>
    public Task<int> UdpAddressesAsync() =>
        _system.ActorSelection("/user/listener/udp").Ask<int>(Udp.GetUdpAddresses.Instance, TimeSpan.FromSeconds(10));

    public static async Task<InProcessServer> StartAsync(string overrides = "")
    {
        var hocon = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "hocon.conf"));
        var config = ConfigurationFactory.ParseString("actor-tcp { port = 0, binary-port = 0 }\n" + overrides)
            .WithFallback(ConfigurationFactory.ParseString(hocon));
        var settings = ServerSettings.FromConfig(config);
        var system = ActorSystem.Create("in-process", config);
        var root = Path.IsPathRooted(settings.FilesRoot) ? settings.FilesRoot : Path.Combine(AppContext.BaseDirectory, settings.FilesRoot);
        var files = new FileService(new FileStore(root), new DownloadQuota(settings.MaxDownloads));
        var heartbeat = system.ActorOf(HeartbeatSupervisor.Props(settings.HeartbeatTick, settings.IdleTimeout, settings.HandshakeTimeout));
        var status = new BindingStatus();
        var parts = new ListenerParts(settings, new ServerStats("test", system.Scheduler.Now), files, new SessionKeys(), null, NullLogger.Instance, status);
        system.ActorOf(ListenerActor.Props(parts, heartbeat), "listener");
        return new InProcessServer(system, await status.Bound.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    public async ValueTask DisposeAsync() => await _system.Terminate();
}
