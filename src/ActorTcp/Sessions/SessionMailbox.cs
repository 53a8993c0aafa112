// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace ActorTcp.Sessions;

/// <summary>
/// The sessions' mailbox. Akka's default queue (a ConcurrentQueue) holds about a kilobyte per actor even when
/// empty; a session's queue sees one producer at a time most of the time (its transport) and one consumer, so a
/// plain queue under a lock, whose array exists only once a message has waited, serves it at a fraction of that.
/// </summary>
public sealed class SessionMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<SmallMessageQueue>
{
    /// <summary>Where hocon.conf defines it; sessions use it when the configuration has it.</summary>
    public const string ConfigPath = "actor-tcp-session-mailbox";

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new SmallMessageQueue();
}

/// <summary>
/// An unbounded queue under a lock, small while empty: any number of senders, one reader. The oldest message waits
/// in a field of the queue itself, which is all a session ever needs while one message at a time reaches it (a
/// read, then the next read once the first is answered); only the messages behind it go to a ring, which exists
/// once two have waited together, starts at 4 slots and doubles. The sessions use it, and so do the load
/// generator's simulated clients.
/// </summary>
internal sealed class SmallMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private Envelope _first;
    private Envelope[] _ring = [];
    private int _head;
    private int _count;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (this)
        {
            if (_count == 0)
            {
                _first = envelope;
            }
            else
            {
                var behind = _count - 1;
                if (behind == _ring.Length) Grow();
                _ring[(_head + behind) & (_ring.Length - 1)] = envelope;
            }
            Volatile.Write(ref _count, _count + 1);
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (this)
        {
            if (_count == 0)
            {
                envelope = default;
                return false;
            }
            envelope = _first;
            if (_count > 1)
            {
                _first = _ring[_head];
                // Cleared, so that a delivered message is not kept alive by the slot it waited in.
                _ring[_head] = default;
                _head = (_head + 1) & (_ring.Length - 1);
            }
            else
            {
                _first = default;
            }
            Volatile.Write(ref _count, _count - 1);
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }

    /// <summary>The ring is full: unrolled into one twice the size (a power of two), oldest first.</summary>
    private void Grow()
    {
        var larger = new Envelope[Math.Max(4, _ring.Length * 2)];
        var tail = _ring.Length - _head;
        Array.Copy(_ring, _head, larger, 0, tail);
        Array.Copy(_ring, 0, larger, tail, _head);
        _ring = larger;
        _head = 0;
    }
}
