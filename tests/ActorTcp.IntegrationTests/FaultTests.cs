namespace ActorTcp.IntegrationTests;

/// <summary>Faults around the server rather than inside one session: descriptors, silent crowds, shutdown mid-transfer.</summary>
public sealed class FaultTests
{
    [Fact]
    public async Task Out_of_descriptors_the_server_refuses_the_surplus_and_serves_again_once_they_free_up()
    {
        // 600 descriptors and a connection limit far above them: the server holds connections to what the
        // descriptors allow, keeping a reserve for the runtime, and refuses the rest with the full line.
        await using var server = await ServerProcess.StartUnderAsync(
            ["prlimit", "--nofile=600:600"], "actor-tcp { max-connections = 1000, max-downloads = 10 }");
        var crowd = new List<TestClient>();
        int admitted = 0, refused = 0;
        try
        {
            for (var i = 0; i < 500; i++)
            {
                var client = await TestClient.ConnectAsync(server.TextPort);
                crowd.Add(client);
                var first = await client.ReadLineAsync();
                if (first == "Welcome!") admitted++;
                else if (first == "ERR server full") refused++;
                else Assert.Fail($"client {i} got '{first}'");
            }
        }
        finally
        {
            foreach (var c in crowd) c.Reset();
        }
        Assert.True(admitted is > 300 and < 400, $"{admitted} admitted");
        Assert.Equal(500 - admitted, refused);
        Assert.Contains("is more than the descriptor limit 600 leaves", server.Log);

        // The server notices the resets a moment later; until then it is still full and says so.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            await using var again = await TestClient.ConnectAsync(server.TextPort);
            var first = await again.ReadLineAsync();
            if (first == "ERR server full" && DateTime.UtcNow < deadline)
            {
                await Task.Delay(100);
                continue;
            }
            Assert.Equal("Welcome!", first);
            Assert.Equal("What's your name?", await again.ReadLineAsync());
            await again.SendAsync("neo\nPING\n");
            Assert.Equal(["Hello neo!", "PONG"], await again.ReadLinesAsync(2));
            break;
        }
        Assert.False(server.HasExited);
    }

    [Fact]
    public async Task Two_thousand_silent_connections_are_held_then_closed_by_the_handshake_timeout_while_others_are_served()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { handshake-timeout = 3s, heartbeat-tick = 200ms }");
        var silent = new List<TestClient>();
        try
        {
            for (var i = 0; i < 2000; i++) silent.Add(await TestClient.ConnectAsync(server.TextPort));
            await using (var client = await TestClient.NamedAsync(server.TextPort))
            {
                await client.SendAsync("PING\n");
                Assert.Equal("PONG", await client.ReadLineAsync());
            }
            foreach (var c in silent)
            {
                var lines = new List<string?>();
                for (string? line; (line = await c.ReadLineAsync()) is not null;) lines.Add(line);
                Assert.Equal(["Welcome!", "What's your name?", "ERR handshake timeout"], lines);
            }
        }
        finally
        {
            foreach (var c in silent) await c.DisposeAsync();
        }
    }

    [Fact]
    public async Task Shutdown_lets_a_download_in_flight_finish_then_says_so()
    {
        var root = Directory.CreateTempSubdirectory("actortcp-files-").FullName;
        try
        {
            var data = new byte[8 * 1024 * 1024];
            new Random(7).NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(root, "big.bin"), data);
            await using var server = await ServerProcess.StartAsync("", "--files", root);
            await using var downloader = await TestClient.NamedAsync(server.TextPort);
            await using var idle = await TestClient.NamedAsync(server.TextPort, "idle");
            await downloader.SendAsync("GET big.bin\nPING\n");
            Assert.Equal($"OK {data.Length}", await downloader.ReadLineAsync());
            var first = await downloader.ReadBytesAsync(64 * 1024);

            var exit = server.TerminateAsync();
            Assert.Equal("ERR server shutting down", await idle.ReadLineAsync());
            var rest = await downloader.ReadBytesAsync(data.Length - first.Length);
            Assert.Equal(data, first.Concat(rest).ToArray());
            // The PING queued behind the transfer is not served: the last line comes next, then the close.
            Assert.Equal("ERR server shutting down", await downloader.ReadLineAsync());
            Assert.Null(await downloader.ReadLineAsync());
            Assert.Equal(0, await exit);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task A_client_that_reads_late_after_quit_still_gets_every_byte_when_close_linger_passes()
    {
        var root = Directory.CreateTempSubdirectory("actortcp-linger-").FullName;
        try
        {
            // Small enough to sit whole in the kernel's buffers, so the server finishes writing it at once.
            var data = new byte[256 * 1024];
            new Random(11).NextBytes(data);
            await File.WriteAllBytesAsync(Path.Combine(root, "tail.bin"), data);
            await using var server = await ServerProcess.StartAsync("actor-tcp.close-linger = 200ms", "--files", root);
            await using var client = await TestClient.NamedAsync(server.TextPort);
            await client.SendAsync("GET tail.bin\nQUIT\n");
            // Not reading yet, past close-linger: the server gives up waiting for our FIN and closes its socket.
            // Closing it gracefully leaves the file's tail to the kernel; a reset would destroy it.
            await using var observer = await TestClient.NamedAsync(server.TextPort, "observer");
            await observer.StatsUntilAsync(stats => stats["connections"] == "1", "the quitting client's session to end");
            Assert.Equal($"OK {data.Length}", await client.ReadLineAsync());
            Assert.Equal(data, await client.ReadBytesAsync(data.Length));
            Assert.Equal("Goodbye!", await client.ReadLineAsync());
            Assert.True(await client.IsClosedByServerAsync());
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
