// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;
using Akka.Configuration;
using Akka.Streams;

namespace ActorTcp.LoadTest.Cluster;

/// <summary>The actor system a coordinator or worker joins the run's cluster with (the clients have a system of their own).</summary>
internal static class ClusterSetup
{
    public const string SystemName = "loadtest";
    public const string CoordinatorRole = "coordinator";
    public const string WorkerRole = "worker";
    public const string CoordinatorActorName = "coordinator";
    public const string WorkerActorName = "worker";

    /// <summary>How long a worker runs on without its coordinator before it stops (counted from the failure detector's verdict).</summary>
    public static readonly TimeSpan CoordinatorLossLimit = TimeSpan.FromSeconds(10);

    /// <summary>A member whose connection dropped and was not made again within this long is gone (its process ended).</summary>
    public static readonly TimeSpan ReconnectGrace = TimeSpan.FromSeconds(3);

    /// <summary>The system, or null and why when its endpoint cannot be bound (address not on this machine, port taken).</summary>
    public static (ActorSystem? System, string? Error) TryCreate(string role, string host, int port, string? seed)
    {
        try
        {
            return (Create(role, host, port, seed), null);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var cause = e.GetBaseException();
            return (null, $"cannot open the cluster endpoint {host}:{port}: {cause.GetType().Name}: {cause.Message}");
        }
    }

    private static ActorSystem Create(string role, string host, int port, string? seed)
    {
        var seeds = seed is null ? "" : $"\"akka.tcp://{SystemName}@{seed}\"";
        var config = ConfigurationFactory.ParseString($$"""
            akka {
              loglevel = WARNING
              stdout-loglevel = ERROR
              loggers = ["{{Qualified(typeof(QuietLogger))}}"]
              log-dead-letters = off
              log-dead-letters-during-shutdown = off
              actor {
                provider = cluster
                serializers.actor-tcp-loadtest = "{{Qualified(typeof(LoadTestSerializer))}}"
                serialization-bindings { "{{Qualified(typeof(ILoadTestMessage))}}" = actor-tcp-loadtest }
              }
              remote {
                log-remote-lifecycle-events = off
                dot-netty.tcp {
                  hostname = "{{host}}"
                  port = {{port}}
                  # A cluster port is never shared: .NET's ReuseAddress would also set SO_REUSEPORT on Linux.
                  tcp-reuse-addr = off
                }
              }
              cluster {
                roles = ["{{role}}"]
                seed-nodes = [{{seeds}}]
                log-info = off
                # A run is minutes long and ends itself when a member is lost: nobody is downed, and the split-brain
                # resolver could otherwise down the coordinator when it stands alone with one worker.
                downing-provider-class = ""
                # A member busy with tens of thousands of clients on two shared cores was seen silent for 7 s: the
                # failure detector waits 20 s. A killed process is known sooner, by its connection dropping.
                failure-detector.acceptable-heartbeat-pause = 20s
              }
              coordinated-shutdown.exit-clr = off
              coordinated-shutdown.run-by-clr-shutdown-hook = off
              coordinated-shutdown.phases.cluster-exiting.timeout = 3s
            }
            """);
        // Akka.Streams' own configuration (its stream ref serializer) must be there before the first offer arrives.
        return ActorSystem.Create(SystemName, config.WithFallback(ActorMaterializer.DefaultConfig()));
    }

    private static string Qualified(Type type) => $"{type.FullName}, {type.Assembly.GetName().Name}";
}
