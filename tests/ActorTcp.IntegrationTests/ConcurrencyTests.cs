using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>Many clients at once, on a server with its default limits.</summary>
public sealed class ConcurrencyTests(DefaultServer server) : IClassFixture<DefaultServer>
{
    private const int Clients = 1000;
    private const int EchoesEach = 10;
    private const int ConnectingAtOnce = 200;

    [Fact]
    public async Task A_thousand_concurrent_clients_each_complete_the_dialog_and_get_their_own_ten_echoes()
    {
        var since = Stopwatch.StartNew();
        using var connecting = new SemaphoreSlim(ConnectingAtOnce);
        var allNamed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var named = 0;
        var clients = new TestClient?[Clients];
        try
        {
            var sessions = Enumerable.Range(0, Clients).Select(async i =>
            {
                await connecting.WaitAsync();
                try
                {
                    clients[i] = await TestClient.NamedAsync(server.TextPort, $"c{i}");
                }
                catch (Exception e)
                {
                    // One failed client fails the test now, instead of leaving the others waiting for it.
                    allNamed.TrySetException(e);
                    throw;
                }
                finally
                {
                    connecting.Release();
                }
                // Every client holds its connection until all are named, so the thousand are connected at once.
                if (Interlocked.Increment(ref named) == Clients) allNamed.TrySetResult();
                await allNamed.Task.WaitAsync(TimeSpan.FromSeconds(60));
                var client = clients[i]!;
                for (var n = 0; n < EchoesEach; n++)
                {
                    var payload = $"client {i} echo {n} {new string((char)('a' + i % 26), i % 50)}";
                    await client.SendAsync($"ECHO {payload}\n");
                    Assert.Equal(payload, await client.ReadLineAsync());
                }
            }).ToList();

            var watcher = Task.Run(async () =>
            {
                await allNamed.Task.WaitAsync(TimeSpan.FromSeconds(60));
                await using var observer = await TestClient.NamedAsync(server.TextPort, "observer");
                return await observer.StatsAsync();
            });

            await Task.WhenAll(sessions);
            var stats = await watcher;
            Assert.True(long.Parse(stats["connections"]) >= Clients + 1, $"connections={stats["connections"]} while all were connected");
        }
        finally
        {
            foreach (var client in clients) if (client is not null) await client.DisposeAsync();
        }
        Assert.True(since.Elapsed < TimeSpan.FromSeconds(45), $"took {since.Elapsed}");
    }

    [Fact]
    public async Task Interleaved_requests_of_many_clients_never_cross_sessions()
    {
        var clients = await Task.WhenAll(Enumerable.Range(0, 50).Select(i => TestClient.NamedAsync(server.TextPort, $"mix{i}")));
        try
        {
            // Every client sends its whole batch in one go, all at once, then reads: the replies must be its own.
            await Task.WhenAll(clients.Select((c, i) =>
                c.SendAsync(string.Concat(Enumerable.Range(0, 100).Select(n => $"ECHO {i}:{n}\n")))));
            await Task.WhenAll(clients.Select(async (c, i) =>
                Assert.Equal(Enumerable.Range(0, 100).Select(n => $"{i}:{n}").ToList(), await c.ReadLinesAsync(100))));
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }
}

/// <summary>Connection limits and back-pressure, each on a server of its own.</summary>
public sealed class LimitTests
{
    private static readonly IPAddress OtherLoopback = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task Past_max_connections_a_new_client_gets_only_server_full_and_a_slot_frees_when_a_client_quits()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-connections = 3 }");
        await using var first = await TestClient.NamedAsync(server.TextPort, "first");
        await using var second = await Greeted(server.TextPort);
        var third = await Greeted(server.TextPort);

        await using (var fourth = await TestClient.ConnectAsync(server.TextPort))
            Assert.Equal("ERR server full\n", Encoding.UTF8.GetString(await fourth.ReadToEndAsync()));

        var stats = await first.StatsAsync();
        Assert.Equal("3", stats["connections"]);
        Assert.Equal("1", stats["rejected"]);
        Assert.Equal("1", stats["closed_server_full"]);

        await using (third)
        {
            await third.SendAsync("quit\n");
            Assert.Equal("Goodbye!", await third.ReadLineAsync());
            Assert.True(await third.IsClosedByServerAsync());
        }
        await first.StatsUntilAsync(s => s["connections"] == "2", "connections=2 after a client quit");

        await using var replacement = await TestClient.NamedAsync(server.TextPort, "replacement");
        await replacement.SendAsync("PING\n");
        Assert.Equal("PONG", await replacement.ReadLineAsync());
        await using (var again = await TestClient.ConnectAsync(server.TextPort))
            Assert.Equal("ERR server full\n", Encoding.UTF8.GetString(await again.ReadToEndAsync()));
        Assert.Equal("2", (await first.StatsAsync())["rejected"]);
    }

    [Fact]
    public async Task Max_connections_counts_both_listeners_and_a_refused_binary_client_gets_the_line_as_a_frame()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-connections = 2 }");
        await using var text = await Greeted(server.TextPort);
        await using var binary = await TestClient.ConnectAsync(server.BinaryPort);
        Assert.Equal("Welcome!", await binary.ReadFrameTextAsync());

        await using var refusedText = await TestClient.ConnectAsync(server.TextPort);
        Assert.Equal("ERR server full\n", Encoding.UTF8.GetString(await refusedText.ReadToEndAsync()));
        await using var refusedBinary = await TestClient.ConnectAsync(server.BinaryPort);
        Assert.Equal(TestClient.Frame("ERR server full"u8.ToArray()), await refusedBinary.ReadToEndAsync());
    }

    [Fact]
    public async Task Over_IPv6_a_client_is_served_and_a_second_from_its_address_is_refused_past_max_connections_per_ip()
    {
        // The client's address comes from accept4 itself on the epoll loops: an IPv6 one must be read as that address
        // (the trace, asked for ::1 only, finds it) and as one address (the per-address limit counts it).
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-connections-per-ip = 1 }", "--host", "::1", "--trace", "::1");
        var endpoint = new IPEndPoint(IPAddress.IPv6Loopback, server.TextPort);
        await using var first = await TestClient.ConnectAsync(endpoint);
        Assert.Equal(["Welcome!", "What's your name?"], await first.ReadLinesAsync(2));
        await first.SendAsync("six\nPING\n");
        Assert.Equal(["Hello six!", "PONG"], await first.ReadLinesAsync(2));

        await using (var sameAddress = await TestClient.ConnectAsync(endpoint))
            Assert.Equal("ERR too many connections from your address\n", Encoding.UTF8.GetString(await sameAddress.ReadToEndAsync()));

        var stats = await first.StatsAsync();
        Assert.Equal("1", stats["closed_per_ip_limit"]);
        Assert.Equal("1", stats["connections"]);
        Assert.Contains("Tracing connection", server.Log);
    }

    [Fact]
    public async Task Past_max_connections_per_ip_a_second_client_from_the_address_is_refused_but_another_address_is_admitted()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-connections-per-ip = 1 }");
        await using var first = await TestClient.NamedAsync(server.TextPort, "first");

        await using (var sameAddress = await TestClient.ConnectAsync(server.TextPort, IPAddress.Loopback))
            Assert.Equal("ERR too many connections from your address\n", Encoding.UTF8.GetString(await sameAddress.ReadToEndAsync()));

        await using var otherAddress = await TestClient.ConnectAsync(server.TextPort, OtherLoopback);
        Assert.Equal(["Welcome!", "What's your name?"], await otherAddress.ReadLinesAsync(2));
        await otherAddress.SendAsync("other\nPING\n");
        Assert.Equal(["Hello other!", "PONG"], await otherAddress.ReadLinesAsync(2));

        var stats = await first.StatsAsync();
        Assert.Equal("1", stats["rejected"]);
        Assert.Equal("1", stats["closed_per_ip_limit"]);
        Assert.Equal("2", stats["connections"]);
    }

    [Fact]
    public async Task A_client_that_never_reads_stops_being_read_while_others_are_served_and_then_gets_every_reply_in_order()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-pending-write-bytes = 16384 }");
        var hog = await TestClient.NamedAsync(server.TextPort, "hog");
        await using var _ = hog;
        await using var other = await TestClient.NamedAsync(server.TextPort, "other");

        // 32 MB of requests: far more than the kernel buffers on both sides hold (about 10 MB here).
        const int requests = 8000;
        const int payloadBytes = 4000;
        var totalBytes = 0L;
        var sending = Task.Run(async () =>
        {
            for (var i = 0; i < requests; i++)
            {
                var line = Encoding.ASCII.GetBytes($"ECHO {Payload(i, payloadBytes)}\n");
                await hog.Socket.SendAsync(line, SocketFlags.None);
                Interlocked.Add(ref totalBytes, line.Length);
            }
        });

        // The hog's 32 MB cannot all be taken: the server stops reading it, and the kernel buffers far less.
        // (A bounded look for something that must not happen: the send completing.)
        var finished = await Task.WhenAny(sending, Task.Delay(TimeSpan.FromSeconds(2)));
        Assert.True(finished != sending, $"the server took all {Interlocked.Read(ref totalBytes)} bytes of a client that never read");

        // Another client is served normally while the hog is stuck.
        for (var i = 0; i < 20; i++)
        {
            await other.SendAsync($"ECHO other {i}\n");
            Assert.Equal($"other {i}", await other.ReadLineAsync());
        }
        var stats = await other.StatsAsync();
        Assert.True(long.Parse(stats["bytes_in"]) < (long)requests * payloadBytes / 2, $"bytes_in={stats["bytes_in"]}");

        // Now the hog reads: every reply, in order, and its sends complete.
        for (var i = 0; i < requests; i++)
        {
            var reply = await hog.ReadLineAsync();
            Assert.True(reply == Payload(i, payloadBytes),
                $"reply {i} is not the echo of request {i}: {reply?.Length} chars, starting '{reply?[..Math.Min(12, reply.Length)]}'");
        }
        await sending.WaitAsync(TimeSpan.FromSeconds(15));
        await hog.SendAsync("PING\n");
        Assert.Equal("PONG", await hog.ReadLineAsync());
    }

    private static string Payload(int i, int length)
    {
        var head = $"{i}:";
        return head + new string((char)('a' + i % 26), length - head.Length);
    }

    private static async Task<TestClient> Greeted(int port)
    {
        var client = await TestClient.ConnectAsync(port);
        Assert.Equal(["Welcome!", "What's your name?"], await client.ReadLinesAsync(2));
        return client;
    }
}
