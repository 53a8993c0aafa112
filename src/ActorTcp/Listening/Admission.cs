// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;

namespace ActorTcp.Listening;

/// <summary>The answer to a new connection.</summary>
internal enum Verdict
{
    Admit,
    /// <summary>max-connections clients are connected.</summary>
    ServerFull,
    /// <summary>max-connections-per-ip clients are connected from this address.</summary>
    PerIpLimit,
    /// <summary>The server is shutting down.</summary>
    ShuttingDown,
}

/// <summary>
/// Who may connect: at most <paramref name="maxConnections"/> clients in all and <paramref name="maxPerAddress"/>
/// per remote address (0 = no limit), none during shutdown. A pure policy with its counts; the listener asks it and
/// acts on the verdict. Lingering sockets are not clients and are not counted here.
/// </summary>
internal sealed class Admission(int maxConnections, int maxPerAddress)
{
    private readonly Dictionary<IPAddress, int> _perAddress = new();

    public int Count { get; private set; }

    /// <summary>Decides on a client from <paramref name="address"/>; an admitted one is counted until <see cref="Release"/>.</summary>
    public Verdict Decide(IPAddress address, bool shuttingDown)
    {
        if (shuttingDown) return Verdict.ShuttingDown;
        if (Count >= maxConnections) return Verdict.ServerFull;
        if (maxPerAddress > 0)
        {
            var here = _perAddress.GetValueOrDefault(address);
            if (here >= maxPerAddress) return Verdict.PerIpLimit;
            _perAddress[address] = here + 1;
        }
        Count++;
        return Verdict.Admit;
    }

    /// <summary>An admitted client's session is over: its place is free.</summary>
    public void Release(IPAddress address)
    {
        Count--;
        if (maxPerAddress == 0 || !_perAddress.TryGetValue(address, out var n)) return;
        if (n <= 1) _perAddress.Remove(address);
        else _perAddress[address] = n - 1;
    }
}
