// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;
using Akka.Streams;

namespace ActorTcp.Cluster;

/// <summary>A message that crosses nodes; each is written by <see cref="ClusterSerializer"/>, small and versionable.</summary>
internal interface IClusterMessage;

/// <summary>To a member's registry: how many clients it holds (NODES, STATS). <paramref name="Tag"/> comes back in the reply.</summary>
internal sealed record CountQuery(int Tag) : IClusterMessage;

/// <summary>A member's <c>connections</c>, as its STATS shows it.</summary>
internal sealed record CountReply(int Tag, long Connections) : IClusterMessage;

/// <summary>To a member's registry: its connected names (WHO).</summary>
internal sealed record NamesQuery(int Tag) : IClusterMessage;

/// <summary>
/// A member's answer to WHO: how many names it has, and a stream of them in sorted batches that the asking node pulls
/// with backpressure. The offer itself is a few hundred bytes whatever the number of names.
/// </summary>
internal sealed record NamesOffer(int Tag, int Count, ISourceRef<NameBatch> Names) : IClusterMessage;

/// <summary>
/// Consecutive names of one member's sorted list. <see cref="NodeRegistry.BatchSize"/> names of at most 32 code points
/// each keep one batch far below Akka.Remote's frame limit (128,000 bytes).
/// </summary>
internal sealed record NameBatch(string[] Names) : IClusterMessage;

/// <summary>
/// To a member's registry: a UDP heartbeat that reached another node for a session this member holds (its key names
/// it); the member marks that session alive if the key is still live.
/// </summary>
internal sealed record RemoteHeartbeat(byte[] Key) : IClusterMessage;

/// <summary>To this node's registry, from its UDP endpoint: pass this heartbeat on to the member its key names.</summary>
internal sealed record ForwardHeartbeat(byte[] Key);

/// <summary>From the listener at its start: where the registry gets this node's names.</summary>
internal sealed record ListenerReady(IActorRef Listener);

/// <summary>To the listener, from the registry: this node's own names, answered with a <c>WhoReply</c>.</summary>
internal sealed class LocalNamesRequest
{
    public static readonly LocalNamesRequest Instance = new();

    private LocalNamesRequest() { }
}
