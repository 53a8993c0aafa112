// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using Akka.Actor;

namespace ActorTcp.LoadTest.Clients;

/// <summary>
/// What a client hands its transport as the receiver of one connection's events: it passes every event on to the
/// client with itself as the sender. A client connects again and again (churn, --reconnect), and the transport's
/// events name no connection; an event from an earlier connection (a read that was under way while the client
/// aborted it) then shows by its sender and is dropped, instead of being read as a reply on the new connection.
/// No actor and no registration: one small object per connection.
/// </summary>
internal sealed class ConnectionTag(IActorRef client, IActorRefProvider provider) : MinimalActorRef
{
    public override ActorPath Path => client.Path;

    public override IActorRefProvider Provider => provider;

    protected override void TellInternal(object message, IActorRef sender) => client.Tell(message, this);
}
