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
public sealed class SessionMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<SessionMessageQueue>
{
    /// <summary>Where hocon.conf defines it; sessions use it when the configuration has it.</summary>
    public const string ConfigPath = "actor-tcp-session-mailbox";

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new SessionMessageQueue();
}

internal sealed class SessionMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    // A ring held inline (no Queue<T> object around it), under a lock on the queue itself, which nothing else locks.
    private Envelope[] _ring = [];
    private int _head;
    private int _count;

    public bool HasMessages
    {
        get { lock (this) return _count > 0; }
    }

    public int Count
    {
        get { lock (this) return _count; }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (this)
        {
            if (_count == _ring.Length) Grow();
            _ring[(_head + _count) % _ring.Length] = envelope;
            _count++;
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
            envelope = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }

    private void Grow()
    {
        var grown = new Envelope[Math.Max(4, _ring.Length * 2)];
        for (var i = 0; i < _count; i++) grown[i] = _ring[(_head + i) % _ring.Length];
        _ring = grown;
        _head = 0;
    }
}
