// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Configuration;
using ActorTcp.Sessions;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Cluster;

/// <summary>
/// This node's registry, at <c>/user/registry</c> on every node. It answers the other members for this node alone (its
/// connections, and its names as a stream the asker pulls) and runs this node's cluster-wide WHO, NODES and STATS, one
/// <see cref="MemberQuery"/> each. The names stay with the listener that holds the sessions' tickets: nothing about a
/// client is replicated, and no session is watched or addressed from another node.
/// </summary>
internal sealed class NodeRegistry : ReceiveActor
{
    public const string Name = "registry";

    /// <summary>Names per streamed batch: at most 32 code points each (≤ 128 bytes), so ~26 KB at worst per message.</summary>
    public const int BatchSize = 200;

    private readonly ServerStats _stats;
    private readonly SessionKeys _keys;
    private readonly ClusterSettings _settings;
    private readonly ILogger _logger;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly IMaterializer _materializer;
    private IActorRef? _listener;
    private long _queries;

    public NodeRegistry(ServerStats stats, ClusterSettings settings, SessionKeys keys, ILogger logger)
    {
        _keys = keys;
        _stats = stats;
        _settings = settings;
        _logger = logger;
        _cluster = Akka.Cluster.Cluster.Get(Context.System);
        _materializer = Context.System.Materializer();

        Receive<ListenerReady>(ready => _listener = ready.Listener);
        Receive<CountQuery>(query => Sender.Tell(new CountReply(query.Tag, _stats.Connections)));
        Receive<NamesQuery>(OfferNames);
        Receive<NamesReady>(StreamNames);
        Receive<ListenerSilent>(_ => { });
        Receive<WhoRequest>(_ => StartQuery(QueryKind.Who));
        Receive<NodesRequest>(_ => StartQuery(QueryKind.Nodes));
        Receive<StatsRequest>(_ => StartQuery(QueryKind.Stats));
        Receive<ForwardHeartbeat>(OnForwardHeartbeat);
        Receive<RemoteHeartbeat>(heartbeat => _keys.FindByKey(heartbeat.Key)?.Touch(Context.System.Scheduler.Now.UtcTicks));
    }

    /// <summary>Passes a heartbeat to the member whose mark its key carries (to each, in the rare case two share one).</summary>
    private void OnForwardHeartbeat(ForwardHeartbeat heartbeat)
    {
        var tag = SessionKeys.TagOf(heartbeat.Key);
        foreach (var member in _cluster.State.Members)
        {
            if (member.Address == _cluster.SelfAddress || SessionKeys.TagFor(MemberView.NameOf(member.Address)) != tag) continue;
            Context.ActorSelection(new RootActorPath(member.Address) / "user" / Name).Tell(new RemoteHeartbeat(heartbeat.Key));
        }
    }

    public static Props Props(ServerStats stats, ClusterSettings settings, SessionKeys keys, ILogger logger) =>
        Akka.Actor.Props.Create(() => new NodeRegistry(stats, settings, keys, logger));

    /// <summary>A query failing in flight must not take the registry with it; it has already answered or never will.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => new OneForOneStrategy(_ => Directive.Stop);

    private void StartQuery(QueryKind kind) =>
        Context.ActorOf(MemberQuery.Props(kind, Sender, _cluster, _settings.AskTimeout, _materializer), $"q{++_queries}");

    /// <summary>Takes a snapshot of this node's names from the listener, then offers them as a stream.</summary>
    private void OfferNames(NamesQuery query)
    {
        var asker = Sender;
        if (_listener is null)
        {
            StreamNames(new NamesReady(query.Tag, [], asker));
            return;
        }
        _listener.Ask<WhoReply>(LocalNamesRequest.Instance, _settings.AskTimeout).PipeTo(
            Self,
            success: reply => new NamesReady(query.Tag, reply.Names, asker),
            failure: e =>
            {
                _logger.LogWarning(e, "The listener did not give its names for a WHO of {Asker}", asker.Path.Address);
                // No offer at all: the asker counts this node as not answering (WHO partial), which is the truth.
                return ListenerSilent.Instance;
            });
    }

    /// <summary>
    /// The offer carries a stream ref, not the names: the asker pulls batches as it merges, so no message nears the
    /// remote frame limit whatever the number of names, and an asker that never pulls costs a snapshot for
    /// the stream ref's subscription timeout, then nothing.
    /// </summary>
    private void StreamNames(NamesReady ready)
    {
        var count = ready.Names.Count;
        Source.From(Batches(ready.Names))
            .RunWith(StreamRefs.SourceRef<NameBatch>(), _materializer)
            .PipeTo(ready.Asker, success: names => new NamesOffer(ready.Tag, count, names));
    }

    private static IEnumerable<NameBatch> Batches(IReadOnlyList<string> names)
    {
        for (var start = 0; start < names.Count; start += BatchSize)
        {
            var batch = new string[Math.Min(BatchSize, names.Count - start)];
            for (var i = 0; i < batch.Length; i++) batch[i] = names[start + i];
            yield return new NameBatch(batch);
        }
    }

    private sealed record NamesReady(int Tag, IReadOnlyList<string> Names, IActorRef Asker);

    private sealed class ListenerSilent
    {
        public static readonly ListenerSilent Instance = new();
        private ListenerSilent() { }
    }
}
