// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;
using Akka.Cluster;

namespace ActorTcp.Cluster;

/// <summary>One member as NODES shows it: its address as <c>host:port</c>, its status word, whether it counts as up.</summary>
internal sealed record MemberEntry(Address Address, string Name, string Status, bool Up);

/// <summary>
/// The members a node asks at the moment of a request (docs/PROTOCOL.md, Cluster mode): every member Akka lists in any
/// status but removed, this node always among them (a node whose seeds have not answered yet lists itself alone),
/// sorted by address as strings.
/// </summary>
internal static class MemberView
{
    public static IReadOnlyList<MemberEntry> From(IEnumerable<Member> members, IEnumerable<Member> unreachable, Member self)
    {
        var unreachableAddresses = new HashSet<UniqueAddress>(unreachable.Select(m => m.UniqueAddress));
        var entries = new List<MemberEntry>();
        var selfListed = false;
        foreach (var member in members)
        {
            if (member.Status == MemberStatus.Removed) continue;
            selfListed |= member.Address.Equals(self.Address);
            entries.Add(Entry(member, unreachableAddresses.Contains(member.UniqueAddress)));
        }
        // Before its seeds answer, Akka reports this node as `removed` (it is no member yet): it is joining.
        if (!selfListed) entries.Add(new MemberEntry(self.Address, NameOf(self.Address), "joining", Up: false));
        entries.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        return entries;
    }

    /// <summary><c>host:port</c>, the form NODES and STATS name a node by.</summary>
    public static string NameOf(Address address) =>
        address.Host is { } host && host.Contains(':') ? $"[{host}]:{address.Port}" : $"{address.Host}:{address.Port}";

    public static string StatusWord(MemberStatus status) => status switch
    {
        MemberStatus.Joining => "joining",
        MemberStatus.WeaklyUp => "weakly-up",
        MemberStatus.Up => "up",
        MemberStatus.Leaving => "leaving",
        MemberStatus.Exiting => "exiting",
        MemberStatus.Down => "down",
        MemberStatus.Removed => "removed",
        _ => status.ToString().ToLowerInvariant(),
    };

    private static MemberEntry Entry(Member member, bool unreachable) => new(
        member.Address,
        NameOf(member.Address),
        unreachable ? "unreachable" : StatusWord(member.Status),
        member.Status == MemberStatus.Up);
}
