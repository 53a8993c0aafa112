// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;

namespace ActorTcp.Listening;

/// <summary>
/// Sockets whose session is over and that wait for the client's FIN (close-linger), oldest first. They hold no
/// client's place, so they are bounded here instead: at most <paramref name="maxTotal"/> in all and
/// <paramref name="maxPerAddress"/> per remote address (0 = no bound per address). Past a bound the oldest of that
/// scope must be closed at once, so a client that quits and reconnects in a loop cannot pile up descriptors.
/// </summary>
internal sealed class LingeringSockets<T>(int maxTotal, int maxPerAddress) where T : notnull
{
    private readonly LinkedList<(T Item, IPAddress Address)> _oldestFirst = new();
    private readonly Dictionary<T, LinkedListNode<(T Item, IPAddress Address)>> _nodes = new();
    private readonly Dictionary<IPAddress, int> _perAddress = new();

    public int Count => _nodes.Count;

    public IEnumerable<T> Items => _nodes.Keys;

    /// <summary>Adds a lingering socket; the ones to close now to stay within the bounds go to <paramref name="evicted"/>.</summary>
    public void Add(T item, IPAddress address, List<T> evicted)
    {
        _nodes[item] = _oldestFirst.AddLast((item, address));
        var here = _perAddress.GetValueOrDefault(address) + 1;
        _perAddress[address] = here;
        if (maxPerAddress > 0 && here > maxPerAddress) Evict(OldestFrom(address), evicted);
        while (Count > maxTotal) Evict(_oldestFirst.First!, evicted);
    }

    /// <summary>The socket is closed (its client's FIN came, or close-linger passed); false if it was not here.</summary>
    public bool Remove(T item)
    {
        if (!_nodes.Remove(item, out var node)) return false;
        _oldestFirst.Remove(node);
        var address = node.Value.Address;
        var n = _perAddress[address];
        if (n <= 1) _perAddress.Remove(address);
        else _perAddress[address] = n - 1;
        return true;
    }

    private LinkedListNode<(T Item, IPAddress Address)> OldestFrom(IPAddress address)
    {
        var node = _oldestFirst.First;
        while (!node!.Value.Address.Equals(address)) node = node.Next;
        return node;
    }

    private void Evict(LinkedListNode<(T Item, IPAddress Address)> node, List<T> evicted)
    {
        var item = node.Value.Item;
        Remove(item);
        evicted.Add(item);
    }
}
