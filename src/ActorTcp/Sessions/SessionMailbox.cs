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
    private readonly Queue<Envelope> _queue = new();

    public bool HasMessages
    {
        get { lock (_queue) return _queue.Count > 0; }
    }

    public int Count
    {
        get { lock (_queue) return _queue.Count; }
    }

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_queue) _queue.Enqueue(envelope);
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_queue) return _queue.TryDequeue(out envelope);
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope)) deadletters.Enqueue(owner, envelope);
    }
}
