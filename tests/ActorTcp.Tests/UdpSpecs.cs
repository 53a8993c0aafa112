// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using System.Text;
using ActorTcp.Sessions;
using ActorTcp.Udp;

namespace ActorTcp.Tests;

public sealed class RateWindowsSpecs
{
    [Fact]
    public void An_address_gets_its_limit_per_second_and_a_new_second_starts_afresh()
    {
        var rates = new RateWindows(maxPerSecond: 3, maxAddresses: 10);
        Assert.Equal([true, true, true, false, false], Enumerable.Range(0, 5).Select(_ => rates.Allow(1, 5_000)));
        Assert.True(rates.Allow(1, 5_999) is false);
        Assert.True(rates.Allow(1, 6_000));
    }

    [Fact]
    public void A_full_table_drops_new_addresses_but_serves_the_ones_it_holds_and_empties_after_a_quiet_second()
    {
        var rates = new RateWindows(maxPerSecond: 100, maxAddresses: 2);
        Assert.True(rates.Allow(1, 0));
        Assert.True(rates.Allow(2, 0));
        Assert.False(rates.Allow(3, 0));
        Assert.True(rates.Allow(1, 10));
        Assert.Equal(2, rates.Addresses);
        Assert.True(rates.Allow(3, 1_000));
        Assert.Equal(1, rates.Addresses);
    }

    [Fact]
    public void A_flood_from_a_million_addresses_never_holds_more_than_the_bound()
    {
        var rates = new RateWindows(maxPerSecond: 100, maxAddresses: 1_000);
        for (var i = 0; i < 1_000_000; i++)
        {
            rates.Allow((UInt128)i, i / 10_000);
            Assert.True(rates.Addresses <= 1_000);
        }
    }
}

public sealed class UdpResponderSpecs
{
    private readonly SessionKeys _keys = new();
    private long _now = 1_000;

    private UdpResponder Responder(int maxPerSecond = 100) =>
        new(maxLineBytes: 64, new RateWindows(maxPerSecond, 100), _keys, () => _now);

    private static string? Answer(UdpResponder responder, string datagram) => Answer(responder, Encoding.UTF8.GetBytes(datagram));

    private static string? Answer(UdpResponder responder, byte[] datagram)
    {
        var answer = new byte[datagram.Length];
        var n = responder.Handle(datagram, 7, 0, answer);
        return n == UdpResponder.Silence ? null : Encoding.UTF8.GetString(answer, 0, n);
    }

    [Fact]
    public void Ping_and_echo_are_answered_without_a_line_ending_whatever_the_case()
    {
        var udp = Responder();
        Assert.Equal("PONG", Answer(udp, "ping"));
        Assert.Equal("PONG", Answer(udp, "PING\r\n"));
        Assert.Equal("a b ", Answer(udp, "Echo a b \n"));
        Assert.Equal("", Answer(udp, "ECHO"));
    }

    [Fact]
    public void Everything_else_is_met_with_silence()
    {
        var udp = Responder();
        foreach (var request in new[] { "STATS", "WHO", "HELP", "QUIT", "", "\n", "nonsense", "HEARTBEAT", "ECHO " + new string('x', 80) })
            Assert.Null(Answer(udp, request));
        Assert.Null(Answer(udp, [.. "ECHO a"u8, 0xC3]));
    }

    [Fact]
    public void No_answer_is_ever_longer_than_its_request()
    {
        var udp = Responder(maxPerSecond: int.MaxValue);
        var random = new Random(20261130);
        string[] verbs = ["PING", "ping", "ECHO", "echo", "HEARTBEAT", "P", "PIN", ""];
        for (var i = 0; i < 20_000; i++)
        {
            var tail = new byte[random.Next(0, 70)];
            random.NextBytes(tail);
            var datagram = Encoding.ASCII.GetBytes(verbs[random.Next(verbs.Length)] + (random.Next(2) == 0 ? " " : "")).Concat(tail).ToArray();
            var answer = new byte[datagram.Length];
            var n = udp.Handle(datagram, (UInt128)i, 0, answer);
            Assert.True(n <= datagram.Length, $"{n} bytes answered to {datagram.Length}");
        }
    }

    [Fact]
    public void A_heartbeat_with_the_exact_key_marks_its_session_alive_and_nothing_else_does()
    {
        var ticket = new SessionTicket(1, IPAddress.Loopback, openedAtTicks: 0);
        var key = _keys.KeyOf(ticket);
        var udp = Responder();
        _now = 5_000;
        Assert.Null(Answer(udp, "HEARTBEAT " + key.ToUpperInvariant()));
        Assert.Null(Answer(udp, "HEARTBEAT " + key[..31]));
        Assert.Equal(0, ticket.LastActivityTicks);
        Assert.Null(Answer(udp, "heartbeat\t" + key + "\n"));
        Assert.Equal(5_000, ticket.LastActivityTicks);

        _keys.Forget(ticket);
        _now = 9_000;
        Assert.Null(Answer(udp, "HEARTBEAT " + key));
        Assert.Equal(5_000, ticket.LastActivityTicks);
    }

    [Fact]
    public void Past_its_rate_a_source_is_dropped_heartbeats_included()
    {
        var ticket = new SessionTicket(1, IPAddress.Loopback, openedAtTicks: 0);
        var key = _keys.KeyOf(ticket);
        var udp = Responder(maxPerSecond: 2);
        Assert.Equal("PONG", Answer(udp, "PING"));
        Assert.Equal("PONG", Answer(udp, "PING"));
        _now = 7_000;
        Assert.Null(Answer(udp, "HEARTBEAT " + key));
        Assert.Equal(0, ticket.LastActivityTicks);
    }
}

public sealed class UdpForwardingSpecs
{
    [Fact]
    public void A_heartbeat_whose_key_another_node_made_is_passed_on_and_one_of_ours_never_is()
    {
        var keys = new SessionKeys(nodeTag: 0x0505);
        var forwarded = new List<byte[]>();
        var udp = new UdpResponder(64, new RateWindows(100, 100), keys, () => 0, forwarded.Add);
        var theirs = "0707" + new string('a', 28);
        var oursButUnknown = "0505" + new string('b', 28);
        var answer = new byte[64];
        udp.Handle(Encoding.ASCII.GetBytes("HEARTBEAT " + theirs), 1, 0, answer);
        udp.Handle(Encoding.ASCII.GetBytes("HEARTBEAT " + oursButUnknown), 1, 0, answer);
        udp.Handle(Encoding.ASCII.GetBytes("HEARTBEAT " + theirs.ToUpperInvariant()), 1, 0, answer);
        var only = Assert.Single(forwarded);
        Assert.Equal(theirs, Convert.ToHexStringLower(only));
    }

    [Fact]
    public void A_node_marks_its_keys_so_that_any_member_can_tell_whose_they_are()
    {
        var tag = SessionKeys.TagFor("127.0.0.1:4053");
        Assert.NotEqual(tag, SessionKeys.TagFor("127.0.0.1:4054"));
        var keys = new SessionKeys(tag);
        var key = keys.KeyOf(new SessionTicket(1, IPAddress.Loopback, 0));
        Assert.Equal(tag, SessionKeys.TagOf(Convert.FromHexString(key)));
    }
}

public sealed class SessionKeysSpecs
{
    [Fact]
    public void A_session_keeps_one_key_and_two_sessions_never_share_one()
    {
        var keys = new SessionKeys();
        var first = new SessionTicket(1, IPAddress.Loopback, 0);
        var second = new SessionTicket(2, IPAddress.Loopback, 0);
        var key = keys.KeyOf(first);
        Assert.Matches("^[0-9a-f]{32}$", key);
        Assert.Equal(key, keys.KeyOf(first));
        Assert.NotEqual(key, keys.KeyOf(second));
        Assert.Same(first, keys.Find(Encoding.ASCII.GetBytes(key)));
        Assert.Equal(2, keys.Count);
        keys.Forget(first);
        Assert.Null(keys.Find(Encoding.ASCII.GetBytes(key)));
        Assert.Equal(1, keys.Count);
    }
}
