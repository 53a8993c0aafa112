using System.Net.Sockets;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>One server that every hostile client of this class attacks in turn.</summary>
public sealed class HostileServerFixture : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await ServerProcess.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// Clients that lie, flood, stall and vanish: each must get a clear ERR line
/// where the contract gives one, and never disturb a well-behaved client.
/// </summary>
public sealed class HostileClientTests(HostileServerFixture fixture) : IClassFixture<HostileServerFixture>
{
    private const long MiB = 1024 * 1024;

    private ServerProcess Server => fixture.Server;

    /// <summary>A well-behaved client still gets its answers.</summary>
    private async Task AssertOthersAreServedAsync()
    {
        await using var bystander = await TestClient.NamedAsync(Server.TextPort, "bystander");
        await bystander.SendAsync("ECHO still here\n");
        Assert.Equal("still here", await bystander.ReadLineAsync());
    }

    [Fact]
    public async Task A_line_that_never_ends_is_answered_once_and_others_are_served_meanwhile()
    {
        await using var client = await TestClient.NamedAsync(Server.TextPort);
        var chunk = Encoding.ASCII.GetBytes(new string('y', 64 * 1024));
        for (var i = 0; i < 32; i++) await client.SendAsync(chunk);
        Assert.Equal("ERR line too long (max 4096 bytes)", await client.ReadLineAsync());
        await AssertOthersAreServedAsync();
        // Still mid-line: the next LF ends the skipped line and the session goes on.
        await client.SendAsync("\nPING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_frame_announcing_four_gibibytes_is_refused_at_its_header_and_its_payload_skipped()
    {
        await using var client = await TestClient.ConnectAsync(Server.BinaryPort);
        Assert.Equal("Welcome!", await client.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        await client.SendAsync([0xFF, 0xFF, 0xFF, 0xFF]);
        Assert.Equal("ERR frame too long (max 65536 bytes)", await client.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        var payload = new byte[64 * 1024];
        for (var i = 0; i < 64; i++) await client.SendAsync(payload);
        await AssertOthersAreServedAsync();
    }

    [Fact]
    public async Task Random_bytes_on_both_listeners_never_take_the_server_down()
    {
        var random = new Random(20261123);
        foreach (var port in new[] { Server.TextPort, Server.BinaryPort })
        {
            for (var round = 0; round < 8; round++)
            {
                await using var client = await TestClient.ConnectAsync(port);
                var noise = new byte[256 * 1024];
                random.NextBytes(noise);
                try
                {
                    await client.SendAsync(noise);
                    client.HalfClose();
                    // Whatever the noise meant, the server answers it and then closes: read to the end.
                    while (await client.ReadBytesAsync(64 * 1024) is { Length: > 0 }) { }
                }
                catch (SocketException)
                {
                    // A reset is a fine answer to noise that announced a huge frame and then stopped.
                }
            }
        }
        await AssertOthersAreServedAsync();
    }

    [Fact]
    public async Task A_client_that_never_reads_is_no_longer_read()
    {
        var client = await TestClient.NamedAsync(Server.TextPort, "hoarder");
        client.Socket.ReceiveBufferSize = 4096;
        var request = Encoding.ASCII.GetBytes("ECHO " + new string('z', 4000) + "\n");
        var batch = Enumerable.Repeat(request, 64).SelectMany(b => b).ToArray();
        // The server stops reading once its replies back up, so our sends stall: stop sending when they do.
        var sent = 0L;
        using (var stall = new CancellationTokenSource(TimeSpan.FromSeconds(3)))
        {
            try
            {
                while (sent < 64 * MiB)
                {
                    await client.Socket.SendAsync(batch, SocketFlags.None, stall.Token);
                    sent += batch.Length;
                }
            }
            catch (OperationCanceledException) { }
        }
        Assert.True(sent < 64 * MiB, "the server kept reading a client that never reads");
        await AssertOthersAreServedAsync();
        client.Reset();
    }

    [Fact]
    public async Task A_reset_in_the_middle_of_replies_frees_the_connection_at_once()
    {
        await using var observer = await TestClient.NamedAsync(Server.TextPort, "observer");
        var baseline = await ConnectionsAsync(observer);
        var client = await TestClient.NamedAsync(Server.TextPort, "resetter");
        var request = Encoding.ASCII.GetBytes("ECHO " + new string('r', 4000) + "\n");
        await client.SendAsync(Enumerable.Repeat(request, 200).SelectMany(b => b).ToArray());
        await client.ReadBytesAsync(10_000);
        client.Reset();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (await ConnectionsAsync(observer) > baseline && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(baseline, await ConnectionsAsync(observer));
    }

    private static async Task<long> ConnectionsAsync(TestClient client)
    {
        await client.SendAsync("STATS\n");
        var stats = await client.ReadLineAsync() ?? throw new IOException("closed");
        var field = stats.Split(' ').Single(f => f.StartsWith("connections=", StringComparison.Ordinal));
        return long.Parse(field["connections=".Length..]);
    }
}
