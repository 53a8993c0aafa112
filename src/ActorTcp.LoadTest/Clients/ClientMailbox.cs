// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Sessions;
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
internal sealed class ClientMailbox(Settings settings, Config config) : MailboxType(settings, config), IProducesMessageQueue<SmallMessageQueue>
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

    public override IMessageQueue Create(IActorRef owner, ActorSystem system) => new SmallMessageQueue();
}
