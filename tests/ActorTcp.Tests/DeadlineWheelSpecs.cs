using System.Net;
using ActorTcp.Sessions;
using ActorTcp.Heartbeat;

namespace ActorTcp.Tests;

public sealed class DeadlineWheelSpecs
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private static SessionTicket Ticket(long openedAt, string? name = "neo")
    {
        var ticket = new SessionTicket(1, IPAddress.Loopback, openedAt);
        if (name is not null) ticket.Named(name);
        return ticket;
    }

    [Fact]
    public void A_first_tick_long_after_the_deadline_still_expires_the_session()
    {
        var wheel = new DeadlineWheel(Second, 10 * Second, 20 * Second);
        wheel.Add(Ticket(0));
        var expired = new List<SessionTimeout>();
        wheel.Advance((100 * Second).Ticks, (_, t) => expired.Add(t));
        Assert.Equal([SessionTimeout.Idle], expired);
    }

    [Fact]
    public void An_active_session_is_moved_to_its_new_deadline_without_expiring()
    {
        var wheel = new DeadlineWheel(Second, 10 * Second, 20 * Second);
        var ticket = Ticket(0);
        wheel.Add(ticket);
        var expired = 0;
        for (var s = 1; s <= 60; s++)
        {
            ticket.Touch((s * Second).Ticks);
            wheel.Advance((s * Second).Ticks, (_, _) => expired++);
        }
        Assert.Equal(0, expired);
    }

    [Fact]
    public void An_unnamed_session_is_expired_at_the_handshake_deadline_not_before()
    {
        var wheel = new DeadlineWheel(Second, 10 * Second, 20 * Second);
        wheel.Add(Ticket(0, name: null));
        var expired = new List<(int Second, SessionTimeout Timeout)>();
        for (var s = 1; s <= 25; s++) wheel.Advance((s * Second).Ticks, (_, t) => expired.Add((s, t)));
        Assert.Equal([(20, SessionTimeout.Handshake)], expired);
    }

    [Fact]
    public void An_ended_session_is_dropped_when_its_bucket_comes_due()
    {
        var wheel = new DeadlineWheel(Second, 10 * Second, 20 * Second);
        var ticket = Ticket(0);
        wheel.Add(ticket);
        ticket.End();
        var expired = 0;
        wheel.Advance((30 * Second).Ticks, (_, _) => expired++);
        Assert.Equal(0, expired);
        Assert.Equal(0, wheel.Tracked);
    }
}
