// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorTcp.IntegrationTests;

public sealed class UdpServer() : ServerFixture("actor-tcp { udp-max-per-second = 50 }", "--udp-port", "0");

/// <summary>The UDP endpoint over real datagrams: answers, silence, rate limits, and heartbeats that keep TCP sessions alive.</summary>
public sealed class UdpTests(UdpServer server) : IClassFixture<UdpServer>
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(300);

    /// <summary>A UDP client on its own source address, so that each test has its own rate window.</summary>
    private static UdpClient Client(int host)
    {
        var client = new UdpClient(new IPEndPoint(IPAddress.Parse($"127.0.0.{host}"), 0));
        return client;
    }

    private static async Task<byte[]?> ReceiveAsync(UdpClient client, TimeSpan within)
    {
        using var cancel = new CancellationTokenSource(within);
        try
        {
            return (await client.ReceiveAsync(cancel.Token)).Buffer;
        }
        catch (OperationCanceledException)
        {
            return null;
        }
    }

    private Task SendAsync(UdpClient client, string text) => SendAsync(client, Encoding.UTF8.GetBytes(text));

    private async Task SendAsync(UdpClient client, byte[] datagram) =>
        await client.SendAsync(datagram, new IPEndPoint(IPAddress.Loopback, server.Server.UdpPort));

    [Fact]
    public async Task Ping_and_echo_are_answered_with_one_datagram_each_and_no_line_ending()
    {
        using var client = Client(20);
        await SendAsync(client, "PING");
        Assert.Equal("PONG", Encoding.UTF8.GetString((await ReceiveAsync(client, TestClient.Timeout))!));
        await SendAsync(client, "ping\r\n");
        Assert.Equal("PONG", Encoding.UTF8.GetString((await ReceiveAsync(client, TestClient.Timeout))!));
        await SendAsync(client, "EcHo  two  spaces\n");
        Assert.Equal(" two  spaces", Encoding.UTF8.GetString((await ReceiveAsync(client, TestClient.Timeout))!));
        await SendAsync(client, "ECHO");
        Assert.Empty((await ReceiveAsync(client, TestClient.Timeout))!);
    }

    [Fact]
    public async Task Unknown_oversize_invalid_and_stats_datagrams_get_silence()
    {
        using var client = Client(21);
        await SendAsync(client, "STATS");
        await SendAsync(client, "WHO");
        await SendAsync(client, "hello");
        await SendAsync(client, "HEARTBEAT 00000000000000000000000000000000");
        await SendAsync(client, "ECHO " + new string('x', 5000));
        await SendAsync(client, [.. "ECHO a"u8, 0xFF]);
        await SendAsync(client, "PING");
        // The first answer is the last request's: everything before it was met with silence.
        Assert.Equal("PONG", Encoding.UTF8.GetString((await ReceiveAsync(client, TestClient.Timeout))!));
        Assert.Null(await ReceiveAsync(client, Quiet));
    }

    [Fact]
    public async Task A_burst_of_600_pings_from_one_address_is_answered_at_most_at_the_limit()
    {
        using var client = Client(22);
        var ping = "PING"u8.ToArray();
        var burst = Stopwatch.StartNew();
        for (var i = 0; i < 600; i++) await SendAsync(client, ping);
        var windows = 1 + (int)Math.Ceiling(burst.Elapsed.TotalSeconds);
        var answers = 0;
        while (await ReceiveAsync(client, Quiet) is not null) answers++;
        // 50 per one-second window; the burst may straddle a window's end.
        Assert.InRange(answers, 1, 50 * windows);
        Assert.True(answers < 600, $"{answers} of 600 pings answered");
    }

    [Fact]
    public async Task Key_answers_32_lowercase_hex_digits_fresh_for_each_session()
    {
        await using var first = await TestClient.NamedAsync(server.TextPort, "first");
        await using var second = await TestClient.NamedAsync(server.TextPort, "second");
        var keys = new List<string>();
        foreach (var client in new[] { first, second })
        {
            await client.SendAsync("KEY\n");
            var line = await client.ReadLineAsync();
            Assert.Matches("^OK [0-9a-f]{32}$", line);
            keys.Add(line![3..]);
            await client.SendAsync("key\n");
            Assert.Equal(line, await client.ReadLineAsync());
        }
        Assert.NotEqual(keys[0], keys[1]);
    }
}

/// <summary>UDP heartbeats against the idle timeout, over a real server process and real time (seconds, bounded).</summary>
public sealed class UdpHeartbeatTests
{
    [Fact]
    public async Task Udp_heartbeats_keep_a_silent_tcp_session_past_idle_timeout_and_a_wrong_key_keeps_nothing()
    {
        await using var server = await ServerProcess.StartAsync(
            "actor-tcp { idle-timeout = 2s, heartbeat-tick = 100ms }", "--udp-port", "0");
        await using var kept = await TestClient.NamedAsync(server.TextPort, "kept");
        await using var wrong = await TestClient.NamedAsync(server.TextPort, "wrong");
        await kept.SendAsync("KEY\n");
        var key = (await kept.ReadLineAsync())![3..];
        await wrong.SendAsync("KEY\n");
        // The other client heartbeats with the right key in upper case: not byte for byte the key, so nothing.
        var wrongKey = (await wrong.ReadLineAsync())![3..].ToUpperInvariant();

        using var udp = new UdpClient(new IPEndPoint(IPAddress.Parse("127.0.0.30"), 0));
        var target = new IPEndPoint(IPAddress.Loopback, server.UdpPort);
        var silentFor = Stopwatch.StartNew();
        var wrongClosed = ReadUntilClosedAsync(wrong);
        while (silentFor.Elapsed < TimeSpan.FromSeconds(3.5))
        {
            await udp.SendAsync(Encoding.ASCII.GetBytes("HEARTBEAT " + key + "\n"), target);
            await udp.SendAsync(Encoding.ASCII.GetBytes("HEARTBEAT " + wrongKey), target);
            await Task.Delay(300);
        }
        Assert.Equal(["ERR idle timeout"], await wrongClosed);

        // 3.5 s without a byte on TCP, past the 2 s idle timeout: still served.
        await kept.SendAsync("PING\n");
        Assert.Equal("PONG", await kept.ReadLineAsync());

        // Once the heartbeats stop, the idle timeout applies again.
        var stopped = Stopwatch.StartNew();
        Assert.Equal("ERR idle timeout", await kept.ReadLineAsync());
        Assert.InRange(stopped.Elapsed, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
    }

    private static async Task<List<string>> ReadUntilClosedAsync(TestClient client)
    {
        var lines = new List<string>();
        while (await client.ReadLineAsync() is { } line) lines.Add(line);
        return lines;
    }

    [Fact]
    public async Task A_flood_from_200_addresses_leaves_tcp_clients_served_and_the_address_table_within_its_bound()
    {
        await using var server = await InProcessServer.StartAsync("actor-tcp { udp-port = 0, udp-max-addresses = 100 }");
        await using var bystander = await TestClient.NamedAsync(server.TextPort, "bystander");
        var senders = Enumerable.Range(2, 200)
            .Select(host => new UdpClient(new IPEndPoint(IPAddress.Parse($"127.0.0.{host}"), 0)))
            .ToList();
        try
        {
            var target = new IPEndPoint(IPAddress.Loopback, server.UdpPort);
            var ping = "PING"u8.ToArray();
            var fullest = 0;
            for (var round = 0; round < 5; round++)
            {
                foreach (var sender in senders) await sender.SendAsync(ping, target);
                // The endpoint takes the datagrams in its own time, and a new second empties the table: look a few
                // times, and never see it past its bound.
                for (var look = 0; look < 6; look++)
                {
                    var addresses = await server.UdpAddressesAsync();
                    Assert.InRange(addresses, 0, 100);
                    fullest = Math.Max(fullest, addresses);
                    await Task.Delay(50);
                }
                await bystander.SendAsync($"ECHO round {round}\n");
                Assert.Equal($"round {round}", await bystander.ReadLineAsync());
            }
            // 200 addresses within one second fill the table to its bound, and no further.
            Assert.Equal(100, fullest);
        }
        finally
        {
            foreach (var sender in senders) sender.Dispose();
        }
    }
}
