// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Transport;

/// <summary>
/// The session's pull, as a connection keeps it: whether a read has been asked for and not yet delivered, and
/// whether nothing is waiting for readiness (parked) because bytes came that nobody had asked for. One per
/// connection, a field of it, always used under the connection's own lock.
/// </summary>
internal struct ReadDemand()
{
    private bool _wanted = true;
    private bool _parked;

    /// <summary>A read is asked for and not yet delivered.</summary>
    public readonly bool Wanted => _wanted;

    /// <summary>
    /// The socket is readable: true when a read may be done now (the ask is used up, unless the connection is only
    /// reading to find the client's FIN); false when nobody asked, and the wait is parked until someone does.
    /// </summary>
    public bool TryTake(bool discarding)
    {
        if (!_wanted)
        {
            _parked = true;
            return false;
        }
        if (!discarding) _wanted = false;
        return true;
    }

    /// <summary>A read came to nothing (the socket had nothing after all): the ask stands.</summary>
    public void Restore() => _wanted = true;

    /// <summary>After a delivered read: park unless the session has already asked for the next.</summary>
    public void AfterDelivery() => _parked = !_wanted;

    public void Suspend() => _wanted = false;

    /// <summary>The session asks for bytes; true when the wait for readiness must be started again.</summary>
    public bool Resume()
    {
        if (_wanted && !_parked) return false;
        _wanted = true;
        if (!_parked) return false;
        _parked = false;
        return true;
    }

    /// <summary>Our FIN is out: read on to find the client's. True when the wait must be started again.</summary>
    public bool ReadForFin(bool peerFinished)
    {
        _wanted = true;
        var restart = _parked && !peerFinished;
        _parked = false;
        return restart;
    }
}
