// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using System.Net.Sockets;
using ActorTcp.Cluster;
using ActorTcp.Configuration;
using Akka.Actor;
using Microsoft.Extensions.DependencyInjection;

namespace ActorTcp.Server;

/// <summary>The host's side of cluster mode: the port check before start, the listening line's key, the exit code.</summary>
internal static class ClusterPort
{
    /// <summary>
    /// Refuses a cluster port in use with one line. Akka.Remote would otherwise fail inside the host's start with a
    /// stack trace, and a listener bound with SO_REUSEPORT by another process would let it bind the same port silently.
    /// </summary>
    public static void EnsureFree(ClusterSettings cluster)
    {
        if (cluster.Port == 0) return;
        IPAddress address;
        try
        {
            address = IPAddress.TryParse(cluster.Host, out var ip) ? ip : Dns.GetHostAddresses(cluster.Host)[0];
        }
        catch (Exception e) when (e is SocketException or IndexOutOfRangeException)
        {
            throw new SettingsException($"cluster.host: '{cluster.Host}' does not resolve to an address of this machine");
        }
        using var probe = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            probe.Bind(new IPEndPoint(address, cluster.Port));
        }
        catch (SocketException e)
        {
            var endpoint = cluster.Host.Contains(':') ? $"[{cluster.Host}]:{cluster.Port}" : $"{cluster.Host}:{cluster.Port}";
            throw new SettingsException($"cluster.port: cannot bind {endpoint}: {e.Message}");
        }
    }

    /// <summary>The listening line's <c>cluster=</c> value: this node's cluster address, or off.</summary>
    public static string Describe(IServiceProvider services, ServerSettings settings) =>
        settings.Cluster is null
            ? "off"
            : MemberView.NameOf(Akka.Cluster.Cluster.Get(services.GetRequiredService<ActorSystem>()).SelfAddress);

    /// <summary>
    /// 0 after a stop the node chose (a signal, a leave), 1 when the cluster downed it (the split-brain resolver chose
    /// the other side): a service manager should then start it again to rejoin.
    /// </summary>
    public static int ExitCode(IServiceProvider services)
    {
        var system = services.GetService<ActorSystem>();
        if (system is null) return 0;
        return CoordinatedShutdown.Get(system).ShutdownReason is CoordinatedShutdown.ClusterDowningReason ? 1 : 0;
    }
}
