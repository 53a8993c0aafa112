// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Runtime.InteropServices;

namespace ActorTcp.Udp;

/// <summary>
/// Datagrams allowed per source address in fixed one-second windows: past <paramref name="maxPerSecond"/> the rest
/// of that second's datagrams from that address are dropped. The table holds only the addresses of the current
/// second, at most <paramref name="maxAddresses"/> of them; when it is full, datagrams from new addresses are dropped.
/// Its memory is therefore bounded whatever the senders do. Used from one thread (the endpoint's receive loop).
/// </summary>
internal sealed class RateWindows(int maxPerSecond, int maxAddresses)
{
    private readonly Dictionary<UInt128, int> _counts = new();
    private long _second = long.MinValue;

    /// <summary>Addresses in the table now.</summary>
    public int Addresses => _counts.Count;

    public int MaxAddresses => maxAddresses;

    /// <summary>Counts a datagram from <paramref name="address"/>; false when it must be dropped.</summary>
    public bool Allow(UInt128 address, long nowMilliseconds)
    {
        var second = nowMilliseconds / 1000;
        if (second != _second)
        {
            // A new window: every entry is a second old, and expires. Clear keeps the table's capacity, so a flood
            // that filled it once does not make it grow again.
            _counts.Clear();
            _second = second;
        }
        if (!_counts.ContainsKey(address) && _counts.Count >= maxAddresses) return false;
        ref var count = ref CollectionsMarshal.GetValueRefOrAddDefault(_counts, address, out _);
        if (count >= maxPerSecond) return false;
        count++;
        return true;
    }
}
