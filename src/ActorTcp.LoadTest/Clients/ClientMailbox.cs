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

/// <summary>An unbounded queue under a lock, small while empty; any number of senders, one reader.</summary>
internal sealed class ClientMessageQueue : IMessageQueue, IUnboundedMessageQueueSemantics
{
    private readonly Queue<Envelope> _queue = new(4);
    private int _count;

    public bool HasMessages => Volatile.Read(ref _count) > 0;

    public int Count => Volatile.Read(ref _count);

    public void Enqueue(IActorRef receiver, Envelope envelope)
    {
        lock (_queue)
        {
            _queue.Enqueue(envelope);
            _count++;
        }
    }

    public bool TryDequeue(out Envelope envelope)
    {
        lock (_queue)
        {
            if (_queue.TryDequeue(out envelope))
            {
                _count--;
                return true;
            }
            return false;
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
