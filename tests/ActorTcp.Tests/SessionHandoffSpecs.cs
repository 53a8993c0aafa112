// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Sessions;
using ActorTcp.Transport;
using Akka.TestKit.Xunit2;
using Xunit;

namespace ActorTcp.Tests;

public sealed class SessionHandoffSpecs : TestKit
{
    [Theory]
    [InlineData(1L)]
    [InlineData(987_654_321_012L)]
    public void A_sessions_number_survives_the_round_trip_through_its_actor_name(long id)
    {
        Assert.Equal(id, SessionHandoff.IdOf(SessionHandoff.NameOf(id)));
        Assert.StartsWith("c", SessionHandoff.NameOf(id));
    }

    [Fact]
    public void Parts_left_for_a_session_are_taken_once_and_the_table_is_empty_after()
    {
        var handoff = new SessionHandoff();
        var connection = new FakeConnection(CreateTestProbe());
        var ticket = new SessionTicket(7, System.Net.IPAddress.Loopback, 0, ListenerKind.Text);
        handoff.Leave(7, connection, ticket, trace: null);
        Assert.Equal(1, handoff.Count);

        var (taken, takenTicket, trace) = handoff.Take(7);

        Assert.Same(connection, taken);
        Assert.Same(ticket, takenTicket);
        Assert.Null(trace);
        Assert.Equal(0, handoff.Count);
        Assert.Throws<InvalidOperationException>(() => handoff.Take(7));
    }
}
