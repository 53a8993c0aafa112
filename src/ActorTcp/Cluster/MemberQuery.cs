// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Protocol;
using ActorTcp.Sessions;
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace ActorTcp.Cluster;

/// <summary>Which cluster-wide request a <see cref="MemberQuery"/> answers.</summary>
internal enum QueryKind
{
    Who,
    Nodes,
    Stats,
}

/// <summary>
/// One cluster-wide WHO, NODES or STATS: asks every member's registry at once, waits for them up to ask-timeout, and
/// answers the session, then stops. WHO merges the members' sorted name streams in order with backpressure. Whatever a
/// member does (silent, dead, a stream that stalls halfway), the session has its answer within ask-timeout + 1 s.
/// </summary>
internal sealed class MemberQuery : UntypedActor, IWithTimers
{
    /// <summary>How long past ask-timeout the name streams may run; the rest of the second is margin.</summary>
    private static readonly TimeSpan StreamGrace = TimeSpan.FromMilliseconds(800);

    /// <summary>Past this, whatever is missing, the session is answered.</summary>
    private static readonly TimeSpan LastChance = TimeSpan.FromMilliseconds(950);

    private readonly QueryKind _kind;
    private readonly IActorRef _replyTo;
    private readonly Akka.Cluster.Cluster _cluster;
    private readonly TimeSpan _askTimeout;
    private readonly IMaterializer _materializer;
    private DateTimeOffset _started;

    private IReadOnlyList<MemberEntry> _members = [];
    private long?[] _counts = [];
    private NamesOffer?[] _offers = [];
    private int _answered;
    private bool _merging;
    private bool _replied;

    public MemberQuery(QueryKind kind, IActorRef replyTo, Akka.Cluster.Cluster cluster, TimeSpan askTimeout, IMaterializer materializer)
    {
        _kind = kind;
        _replyTo = replyTo;
        _cluster = cluster;
        _askTimeout = askTimeout;
        _materializer = materializer;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(QueryKind kind, IActorRef replyTo, Akka.Cluster.Cluster cluster, TimeSpan askTimeout, IMaterializer materializer) =>
        Akka.Actor.Props.Create(() => new MemberQuery(kind, replyTo, cluster, askTimeout, materializer));

    protected override void PreStart()
    {
        _started = Context.System.Scheduler.Now;
        var state = _cluster.State;
        _members = MemberView.From(state.Members, state.Unreachable, _cluster.SelfMember);
        _counts = new long?[_members.Count];
        _offers = new NamesOffer?[_members.Count];
        for (var i = 0; i < _members.Count; i++)
        {
            // The tag is the member's place in the sorted view, so a reply is matched whatever address it comes from.
            var registry = Context.ActorSelection(new RootActorPath(_members[i].Address) / "user" / NodeRegistry.Name);
            registry.Tell(_kind == QueryKind.Who ? new NamesQuery(i) : new CountQuery(i), Self);
        }
        Timers.StartSingleTimer("asks", AsksDue.Instance, _askTimeout);
        Timers.StartSingleTimer("last-chance", LastChanceDue.Instance, _askTimeout + LastChance);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case CountReply reply when IsNew(reply.Tag, _counts[reply.Tag] is null):
                _counts[reply.Tag] = reply.Connections;
                if (++_answered == _members.Count) AnswerCounts();
                break;
            case NamesOffer offer when IsNew(offer.Tag, _offers[offer.Tag] is null):
                _offers[offer.Tag] = offer;
                if (++_answered == _members.Count) Merge();
                break;
            case AsksDue:
                if (_kind == QueryKind.Who) Merge();
                else AnswerCounts();
                break;
            case Merged merged:
                Answer(new WhoReply(merged.Names, merged.Partial));
                break;
            case LastChanceDue:
                // The streams are bounded well before this; it guards the guarantee, not the usual path.
                if (_kind == QueryKind.Who) Answer(new WhoReply([], Partial: true));
                else AnswerCounts();
                break;
            default:
                // A late or duplicate answer after the reply: nothing to do.
                break;
        }
    }

    private bool IsNew(int tag, bool empty) => !_replied && tag >= 0 && tag < _members.Count && empty;

    private void AnswerCounts()
    {
        if (_replied) return;
        if (_kind == QueryKind.Nodes)
        {
            var lines = new NodeLine[_members.Count];
            for (var i = 0; i < lines.Length; i++) lines[i] = new NodeLine(_members[i].Name, _members[i].Status, _counts[i]);
            Answer(new NodesReply(lines));
            return;
        }
        long sum = 0;
        var up = 0;
        for (var i = 0; i < _members.Count; i++)
        {
            sum += _counts[i] ?? 0;
            if (_members[i].Up) up++;
        }
        Answer(new ClusterSummary(MemberView.NameOf(_cluster.SelfAddress), up, sum, _answered));
    }

    /// <summary>
    /// Pulls every offered stream through one ordered merge. A stream that fails or outlives the time left ends early
    /// and marks the answer partial; the others still count.
    /// </summary>
    private void Merge()
    {
        if (_merging || _replied) return;
        _merging = true;
        var budget = _askTimeout + StreamGrace - (Context.System.Scheduler.Now - _started);
        if (budget < TimeSpan.FromMilliseconds(50)) budget = TimeSpan.FromMilliseconds(50);
        var broken = new Flag();
        var sources = new List<Source<string, NotUsed>>(_offers.Length);
        foreach (var offer in _offers)
        {
            if (offer is null) continue;
            sources.Add(offer.Names.Source
                .CompletionTimeout(budget)
                .RecoverWithRetries(_ =>
                {
                    broken.Set();
                    return Source.Empty<NameBatch>();
                }, 1)
                .SelectMany(batch => batch.Names));
        }
        var missing = _answered < _members.Count;
        MergeSorted(sources)
            .RunWith(Sink.Seq<string>(), _materializer)
            .PipeTo(Self,
                success: names => new Merged(names, missing || broken.IsSet),
                failure: _ => new Merged([], true));
    }

    /// <summary>Merges sorted sources pairwise, level by level, so that no name passes more than log2(n) merge stages.</summary>
    private static Source<string, NotUsed> MergeSorted(List<Source<string, NotUsed>> sources)
    {
        if (sources.Count == 0) return Source.Empty<string>();
        while (sources.Count > 1)
        {
            var level = new List<Source<string, NotUsed>>((sources.Count + 1) / 2);
            for (var i = 0; i < sources.Count; i += 2)
                level.Add(i + 1 < sources.Count ? sources[i].MergeSorted(sources[i + 1], Utf8Order.Instance) : sources[i]);
            sources = level;
        }
        return sources[0];
    }

    private void Answer(object reply)
    {
        if (_replied) return;
        _replied = true;
        _replyTo.Tell(reply);
        Context.Stop(Self);
    }

    private sealed record Merged(IReadOnlyList<string> Names, bool Partial);

    /// <summary>Set from a stream's thread, read once the merge's result has been piped back.</summary>
    private sealed class Flag
    {
        private int _set;
        public bool IsSet => Volatile.Read(ref _set) == 1;
        public void Set() => Volatile.Write(ref _set, 1);
    }

    private sealed class AsksDue
    {
        public static readonly AsksDue Instance = new();
        private AsksDue() { }
    }

    private sealed class LastChanceDue
    {
        public static readonly LastChanceDue Instance = new();
        private LastChanceDue() { }
    }
}
