// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Dispatch.MessageQueues;

namespace ActorTcp.LoadTest.Clients;

/// <summary>
/// The simulated clients' mailbox. Akka's default one is a concurrent queue whose first segment has 32 slots, about
/// 1 KB per actor even while it is empty, which is a quarter of what an idle client keeps; a client has at most a few
/// messages waiting (its replies, a tick), so a queue that grows from 4 under a lock serves it at a sixth of that.
/// </summary>
internal sealed class ClientMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<ClientMessageQueue>
{
    /// <summary>Where the mailbox is configured in the actor system.</summary>
    public const string Id = "actortcp-loadtest-client-mailbox";

    /// <summary>
    /// Makes the mailbox known to <paramref name="system"/> (before its first client is made) and returns its id, for
    /// <see cref="RunContext.Mailbox"/>.
    /// </summary>
    public static string Register(ActorSystem system)
    {
        system.Settings.InjectTopLevelFallback(ConfigurationFactory.ParseString(
            $"{Id}.mailbox-type = \"{typeof(ClientMailbox).FullName}, {typeof(ClientMailbox).Assembly.GetName().Name}\""));
        return Id;
    }

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new ClientMessageQueue();
}

/// <summary>
/// An unbounded queue under a lock, small while empty; any number of senders, one reader. The ring is held inline
/// rather than in a <see cref="Queue{T}"/>, which would be one more object (40 B) per client.
/// </summary>
internal sealed class ClientMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private Envelope[] _ring = new Envelope[4];
    private int _head;
    private int _count;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (this)
        {
            if (_count == _ring.Length)
            {
                // Full: unrolled into a ring twice the size, oldest first.
                var larger = new Envelope[_ring.Length * 2];
                var tail = _ring.Length - _head;
                Array.Copy(_ring, _head, larger, 0, tail);
                Array.Copy(_ring, 0, larger, tail, _head);
                _ring = larger;
                _head = 0;
            }
            _ring[(_head + _count) & (_ring.Length - 1)] = envelope;
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
            envelope = _ring[_head];
            // Cleared, so that a delivered message is not kept alive by the slot it waited in.
            _ring[_head] = default;
            _head = (_head + 1) & (_ring.Length - 1);
            Volatile.Write(ref _count, _count - 1);
            return true;
        }
    }

    public void CleanUp(IActorRef owner, IMessageQueue deadletters)
    {
        while (TryDequeue(out var envelope))
        {
            deadletters.Enqueue(owner, envelope);
        }
    }
}
