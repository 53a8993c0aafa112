// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using Akka.Actor;

namespace ActorTcp.Sessions;

/// <summary>
/// What the rest of the server knows of one live session, shared by reference: the session writes its
/// activity time and name; the heartbeat supervisor and the listener only read them. Sharing these few fields
/// (one writer, volatile reads) is what lets a heartbeat tick check thousands of sessions without a message each.
/// </summary>
internal sealed class SessionTicket(long id, IPAddress remote, long openedAtTicks, ListenerKind listener = ListenerKind.Text)
{
    private long _lastActivityTicks = openedAtTicks;
    private string? _name;
    private int _ended;

    public long Id { get; } = id;

    /// <summary>The session's UDP heartbeat key (see <see cref="SessionKeys"/>); null until the client asks for it.</summary>
    public byte[]? Key { get; set; }

    public IPAddress Remote { get; } = remote;

    public long OpenedAtTicks { get; } = openedAtTicks;

    /// <summary>The listener the client came to (the metrics' <c>listener</c> label).</summary>
    public ListenerKind Listener { get; } = listener;

    /// <summary>The session actor; set once, right after it is created and before the ticket is shared.</summary>
    public IActorRef Session { get; set; } = ActorRefs.Nobody;

    public long LastActivityTicks => Volatile.Read(ref _lastActivityTicks);

    /// <summary>The accepted name; null until the name dialog is done.</summary>
    public string? Name => Volatile.Read(ref _name);

    public bool Ended => Volatile.Read(ref _ended) != 0;

    /// <summary>Traffic from or to the client (bytes received, a write taken by the transport).</summary>
    public void Touch(long nowTicks) => Volatile.Write(ref _lastActivityTicks, nowTicks);

    public void Named(string name) => Volatile.Write(ref _name, name);

    public void End() => Volatile.Write(ref _ended, 1);
}
