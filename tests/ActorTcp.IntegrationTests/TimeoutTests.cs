using System.Diagnostics;
using System.Net.Sockets;

namespace ActorTcp.IntegrationTests;

/// <summary>
/// Short timeouts with a fine tick, so each test waits a few seconds for the server's own event; long enough that a
/// client meant to stay (heartbeating every 200 ms, or named in time) keeps a wide margin on a loaded CI machine,
/// where a second's stall of the test process once cost a heartbeating client its session. The two timeouts differ
/// so that a line or a moment tells which one fired.
/// </summary>
public sealed class ShortTimeoutServer()
    : ServerFixture("actor-tcp { idle-timeout = 2s, handshake-timeout = 3s, heartbeat-tick = 100ms }");

public sealed class TimeoutTests(ShortTimeoutServer server) : IClassFixture<ShortTimeoutServer>
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan Tolerance = TimeSpan.FromMilliseconds(150);
    private static readonly TimeSpan Late = TimeSpan.FromSeconds(8);

    private int Port => server.TextPort;

    [Fact]
    public async Task An_idle_client_is_told_idle_timeout_and_closed_while_a_heartbeating_client_stays_open()
    {
        // The heartbeating client is named first, so without its heartbeats its deadline would come first.
        await using var alive = await TestClient.NamedAsync(Port, "alive");
        // Every stopwatch starts before the server's clock for that deadline can: here, before the idle client's
        // last request. Started after a reply instead, it would count short by however long this busy test process
        // took to see the reply, and a timeout on time would look early.
        var since = Stopwatch.StartNew();
        await using var idle = await TestClient.NamedAsync(Port, "idle");
        using var stop = new CancellationTokenSource();
        var heartbeats = Heartbeat(alive, stop.Token);

        Assert.Equal("ERR idle timeout", await idle.ReadLineAsync());
        var closedAfter = since.Elapsed;
        Assert.True(await idle.IsClosedByServerAsync());
        Assert.InRange(closedAfter, IdleTimeout - Tolerance, Late);

        // Beyond the handshake timeout too, which no longer applies to a named client.
        while (since.Elapsed < HandshakeTimeout + IdleTimeout) await Task.Delay(100);
        await stop.CancelAsync();
        await heartbeats;
        await alive.SendAsync("PING\n");
        Assert.Equal("PONG", await alive.ReadLineAsync());
    }

    [Fact]
    public async Task A_client_trickling_a_name_without_finishing_the_dialog_is_told_handshake_timeout_and_closed()
    {
        var since = Stopwatch.StartNew();
        await using var client = await TestClient.ConnectAsync(Port);
        Assert.Equal(["Welcome!", "What's your name?"], await client.ReadLinesAsync(2));
        using var stop = new CancellationTokenSource();
        var trickle = Trickle(client, stop.Token);

        Assert.Equal("ERR handshake timeout", await client.ReadLineAsync());
        var closedAfter = since.Elapsed;
        Assert.True(await client.IsClosedByServerAsync());
        await stop.CancelAsync();
        await trickle;
        Assert.InRange(closedAfter, HandshakeTimeout - Tolerance, Late);
    }

    [Fact]
    public async Task Pings_in_the_dialog_do_not_postpone_the_handshake_timeout()
    {
        var since = Stopwatch.StartNew();
        await using var client = await TestClient.ConnectAsync(Port);
        Assert.Equal(["Welcome!", "What's your name?"], await client.ReadLinesAsync(2));
        using var stop = new CancellationTokenSource();
        var pings = Repeat(client, "PING\n", stop.Token);

        string? line;
        while ((line = await client.ReadLineAsync()) == "PONG") { }
        var closedAfter = since.Elapsed;
        await stop.CancelAsync();
        await pings;
        Assert.Equal("ERR handshake timeout", line);
        Assert.True(await client.IsClosedByServerAsync());
        Assert.InRange(closedAfter, HandshakeTimeout - Tolerance, Late);
    }

    [Fact]
    public async Task A_silent_client_in_the_dialog_gets_the_handshake_timeout_not_the_idle_timeout()
    {
        var since = Stopwatch.StartNew();
        await using var client = await TestClient.ConnectAsync(Port);
        Assert.Equal(["Welcome!", "What's your name?", "ERR handshake timeout"], await client.ReadLinesAsync(3));
        Assert.InRange(since.Elapsed, HandshakeTimeout - Tolerance, Late);
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_binary_client_that_goes_silent_is_told_idle_timeout_in_a_frame()
    {
        await using var client = await TestClient.ConnectAsync(server.BinaryPort);
        Assert.Equal("Welcome!", await client.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        var since = Stopwatch.StartNew();
        await client.SendFrameAsync("neo");
        Assert.Equal("Hello neo!", await client.ReadFrameTextAsync());
        Assert.Equal("ERR idle timeout", await client.ReadFrameTextAsync());
        Assert.InRange(since.Elapsed, IdleTimeout - Tolerance, Late);
        Assert.True(await client.IsClosedByServerAsync());
    }

    private static Task Heartbeat(TestClient client, CancellationToken stop) => Repeat(client, "HEARTBEAT\n", stop);

    /// <summary>Sends <paramref name="request"/> every 200 ms until stopped or the server closes.</summary>
    private static async Task Repeat(TestClient client, string request, CancellationToken stop)
    {
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await client.SendAsync(request);
                await Task.Delay(200, stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException) { }
    }

    /// <summary>One byte of a name every 200 ms, never a LF: the dialog never finishes.</summary>
    private static async Task Trickle(TestClient client, CancellationToken stop)
    {
        try
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                await client.SendAsync([(byte)('a' + i % 26)]);
                await Task.Delay(200, stop);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException) { }
    }
}
