// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Collections.Concurrent;
using System.Globalization;
using ActorTcp.Observability;
using ActorTcp.Transport;

namespace ActorTcp.Sessions;

/// <summary>
/// What the listener leaves for a session it is creating, under the session's number, for the moment between
/// <c>ActorOf</c> and the actor's constructor (which runs later, on the session's own dispatcher). Entries live for
/// microseconds; the table is empty whenever no session is being created.
/// </summary>
internal sealed class SessionHandoff
{
    private readonly ConcurrentDictionary<long, (IConnection Connection, SessionTicket Ticket, WireTrace? Trace)> _waiting = new();

    /// <summary>The actor name a session of this number gets: "c" and the number.</summary>
    public static string NameOf(long id) => "c" + id.ToString(CultureInfo.InvariantCulture);

    public static long IdOf(string name) => long.Parse(name.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture);

    public void Leave(long id, IConnection connection, SessionTicket ticket, WireTrace? trace) =>
        _waiting[id] = (connection, ticket, trace);

    public (IConnection Connection, SessionTicket Ticket, WireTrace? Trace) Take(long id) =>
        _waiting.TryRemove(id, out var parts) ? parts : throw new InvalidOperationException($"no session {id} was handed over");

    /// <summary>Sessions handed over and not yet taken (zero between creations).</summary>
    public int Count => _waiting.Count;
}
