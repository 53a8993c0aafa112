using System.Net;

namespace ActorTcp.IntegrationTests;

/// <summary>
/// A session is over once the server has said its last line and sent its FIN: its close is counted, its name and
/// its place are freed at once, and its socket lingers (close-linger) apart, within max-lingering and the
/// per-address limit, whatever the client does with its side.
/// </summary>
public sealed class LingeringTests
{
    private static async Task QuitButKeepTheSocketAsync(TestClient client)
    {
        await client.SendAsync("QUIT\n");
        Assert.Equal("Goodbye!", await client.ReadLineAsync());
        // The server's FIN: the client reads the end of the stream but does not close its own side.
        Assert.Null(await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_client_that_said_quit_but_keeps_its_socket_open_no_longer_holds_a_place()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-connections = 3, close-linger = 30s }");
        await using var observer = await TestClient.NamedAsync(server.TextPort, "observer");
        await using var stays = await TestClient.NamedAsync(server.TextPort, "stays");
        await using var leaver = await TestClient.NamedAsync(server.TextPort, "leaver");
        await QuitButKeepTheSocketAsync(leaver);

        // Admitted at once, not refused as `ERR server full` for as long as the lingering socket is open.
        await using var next = await TestClient.NamedAsync(server.TextPort, "next");
        var stats = await observer.StatsAsync();
        Assert.Equal("3", stats["connections"]);
        Assert.Equal("1", stats["lingering"]);
        Assert.Equal("1", stats["closed_quit"]);
        await observer.SendAsync("WHO\n");
        Assert.Equal(["OK 3", "next", "observer", "stays"], await observer.ReadLinesAsync(4));
    }

    [Fact]
    public async Task The_per_address_limit_counts_clients_not_lingering_sockets()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-connections-per-ip = 1, close-linger = 30s }");
        var address = IPAddress.Parse("127.0.0.9");
        await using var first = await TestClient.ConnectAsync(server.TextPort, address);
        Assert.Equal(["Welcome!", "What's your name?"], await first.ReadLinesAsync(2));
        await first.SendAsync("neo\n");
        Assert.Equal("Hello neo!", await first.ReadLineAsync());
        await QuitButKeepTheSocketAsync(first);

        await using var second = await TestClient.ConnectAsync(server.TextPort, address);
        Assert.Equal(["Welcome!", "What's your name?"], await second.ReadLinesAsync(2));
    }

    [Fact]
    public async Task Clients_told_handshake_timeout_are_counted_closed_when_told_even_if_they_never_close()
    {
        await using var server = await ServerProcess.StartAsync(
            "actor-tcp { handshake-timeout = 3s, heartbeat-tick = 100ms, close-linger = 30s, max-lingering = 1000 }");
        await using var observer = await TestClient.NamedAsync(server.TextPort, "observer");
        var silent = new List<TestClient>();
        for (var i = 0; i < 50; i++) silent.Add(await TestClient.ConnectAsync(server.TextPort));
        foreach (var client in silent)
        {
            Assert.Equal(["Welcome!", "What's your name?", "ERR handshake timeout"], await client.ReadLinesAsync(3));
            Assert.Null(await client.ReadLineAsync());
        }

        // Every one of them has been told and has seen the FIN; none has closed its side.
        var stats = await observer.StatsUntilAsync(s => s["closed_handshake_timeout"] == "50", "50 handshake timeouts");
        Assert.Equal("1", stats["connections"]);
        Assert.Equal("50", stats["lingering"]);
        foreach (var client in silent) await client.DisposeAsync();
        await observer.StatsUntilAsync(s => s["lingering"] == "0", "the lingering sockets closed once their clients closed");
    }

    [Fact]
    public async Task Past_max_lingering_the_oldest_lingering_socket_is_closed_at_once()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-lingering = 3, close-linger = 30s }");
        await using var observer = await TestClient.NamedAsync(server.TextPort, "observer");
        var quitters = new List<TestClient>();
        for (var i = 0; i < 10; i++)
        {
            var client = await TestClient.NamedAsync(server.TextPort, "q" + i);
            await QuitButKeepTheSocketAsync(client);
            quitters.Add(client);
        }
        var stats = await observer.StatsUntilAsync(s => s["closed_quit"] == "10", "ten quits");
        Assert.Equal("3", stats["lingering"]);
        Assert.Equal("1", stats["connections"]);
        foreach (var client in quitters) await client.DisposeAsync();
    }

    [Fact]
    public async Task Requests_counts_every_request_answered_since_start()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var client = await TestClient.NamedAsync(server.TextPort, "counter");
        await client.SendAsync("PING\nECHO one\nHEARTBEAT\n");
        Assert.Equal(["PONG", "one"], await client.ReadLinesAsync(2));
        // The name, PING, ECHO and HEARTBEAT; the STATS being answered is counted once its answer is out.
        Assert.Equal("4", (await client.StatsAsync())["requests"]);
        Assert.Equal("5", (await client.StatsAsync())["requests"]);
    }
}
