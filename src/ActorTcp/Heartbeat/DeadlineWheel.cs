// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Sessions;

namespace ActorTcp.Heartbeat;

/// <summary>
/// Sessions bucketed by the heartbeat tick at which their next deadline falls. A tick looks only at the
/// buckets that are due, so its cost follows the sessions near a deadline, not all sessions; a session that
/// was active meanwhile is moved to the bucket of its new deadline without a message to it.
/// </summary>
internal sealed class DeadlineWheel(TimeSpan tick, TimeSpan idleTimeout, TimeSpan handshakeTimeout)
{
    private readonly Dictionary<long, List<SessionTicket>> _buckets = new();
    private readonly long _tickTicks = Math.Max(1, tick.Ticks);
    private long _lastProcessedSlot = long.MinValue;

    public int Tracked { get; private set; }

    public void Add(SessionTicket ticket)
    {
        var first = Math.Min(ticket.OpenedAtTicks + handshakeTimeout.Ticks, ticket.OpenedAtTicks + idleTimeout.Ticks);
        Place(ticket, first);
        Tracked++;
    }

    /// <summary>
    /// Checks every session whose bucket is due at <paramref name="nowTicks"/>; calls <paramref name="expired"/> for
    /// each one past a deadline (it stays tracked, due again one idle-timeout later, in case its close stalls).
    /// Returns how many sessions were looked at.
    /// </summary>
    public int Advance(long nowTicks, Action<SessionTicket, SessionTimeout> expired)
    {
        var nowSlot = nowTicks / _tickTicks;
        var checkedCount = 0;
        foreach (var slot in DueSlots(nowSlot))
        {
            if (!_buckets.Remove(slot, out var due)) continue;
            foreach (var ticket in due)
            {
                checkedCount++;
                if (ticket.Ended)
                {
                    Tracked--;
                    continue;
                }
                var timeout = Check(ticket, nowTicks, out var next);
                if (timeout is not null)
                {
                    expired(ticket, timeout);
                    next = nowTicks + idleTimeout.Ticks;
                }
                Place(ticket, next);
            }
        }
        _lastProcessedSlot = Math.Max(_lastProcessedSlot, nowSlot);
        return checkedCount;
    }

    private SessionTimeout? Check(SessionTicket ticket, long nowTicks, out long nextDeadline)
    {
        if (ticket.Name is null)
        {
            var handshakeDeadline = ticket.OpenedAtTicks + handshakeTimeout.Ticks;
            if (nowTicks >= handshakeDeadline)
            {
                nextDeadline = 0;
                return SessionTimeout.Handshake;
            }
            // A name may come any moment and start the idle clock; never look later than that clock could end.
            nextDeadline = Math.Min(handshakeDeadline, nowTicks + idleTimeout.Ticks);
            return null;
        }

        var idleDeadline = ticket.LastActivityTicks + idleTimeout.Ticks;
        if (nowTicks >= idleDeadline)
        {
            nextDeadline = 0;
            return SessionTimeout.Idle;
        }
        nextDeadline = idleDeadline;
        return null;
    }

    private void Place(SessionTicket ticket, long deadlineTicks)
    {
        // Rounded up: a session is never checked before its deadline, at most one tick after it.
        var slot = (deadlineTicks + _tickTicks - 1) / _tickTicks;
        if (slot <= _lastProcessedSlot) slot = _lastProcessedSlot + 1;
        if (!_buckets.TryGetValue(slot, out var bucket))
        {
            bucket = new List<SessionTicket>();
            _buckets[slot] = bucket;
        }
        bucket.Add(ticket);
    }

    private IEnumerable<long> DueSlots(long nowSlot)
    {
        // The first tick (or one after a long pause, or a test scheduler's jump) scans the buckets that exist:
        // stepping through every slot in between could cost more, and the first has no slot to start from.
        if (_lastProcessedSlot == long.MinValue || nowSlot - _lastProcessedSlot > _buckets.Count)
            return _buckets.Keys.Where(k => k <= nowSlot).OrderBy(k => k).ToList();
        return Range(_lastProcessedSlot + 1, nowSlot);
    }

    private static IEnumerable<long> Range(long from, long to)
    {
        for (var s = from; s <= to; s++) yield return s;
    }
}
