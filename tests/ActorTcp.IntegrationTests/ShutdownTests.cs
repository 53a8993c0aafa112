using System.Diagnostics;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>SIGTERM, as a service manager sends it: every client is told, then the process exits 0.</summary>
public sealed class ShutdownTests
{
    private static readonly TimeSpan FewSeconds = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task Sigterm_tells_every_client_server_shutting_down_closes_them_and_exits_0()
    {
        await using var server = await ServerProcess.StartAsync();
        var (named, inDialog, binary) = await ThreeClients(server);
        var since = Stopwatch.StartNew();
        var exit = server.TerminateAsync(within: TimeSpan.FromSeconds(30));

        // Each client reads to the end and then closes its socket, as nc and telnet do.
        await using (named)
            Assert.Equal("ERR server shutting down\n", Encoding.UTF8.GetString(await named.ReadToEndAsync()));
        await using (inDialog)
            Assert.Equal("ERR server shutting down\n", Encoding.UTF8.GetString(await inDialog.ReadToEndAsync()));
        await using (binary)
            Assert.Equal(TestClient.Frame("ERR server shutting down"u8.ToArray()), await binary.ReadToEndAsync());

        Assert.Equal(0, await exit);
        Assert.True(since.Elapsed < FewSeconds, $"the server took {since.Elapsed} to exit; log:\n{server.Log}");
    }

    [Fact]
    public async Task Sigterm_exits_within_a_few_seconds_even_while_told_clients_keep_their_sockets_open()
    {
        // drain-timeout is for transfers in flight; these clients have none, only their end of the socket open.
        await using var server = await ServerProcess.StartAsync();
        var (named, inDialog, binary) = await ThreeClients(server);
        await using (named)
        await using (inDialog)
        await using (binary)
        {
            var since = Stopwatch.StartNew();
            var exit = server.TerminateAsync(within: TimeSpan.FromSeconds(30));
            Assert.Equal("ERR server shutting down\n", Encoding.UTF8.GetString(await named.ReadToEndAsync()));
            Assert.Equal("ERR server shutting down\n", Encoding.UTF8.GetString(await inDialog.ReadToEndAsync()));
            Assert.Equal(TestClient.Frame("ERR server shutting down"u8.ToArray()), await binary.ReadToEndAsync());

            Assert.Equal(0, await exit);
            Assert.True(since.Elapsed < FewSeconds, $"the server took {since.Elapsed} to exit; log:\n{server.Log}");
        }
    }

    [Fact]
    public async Task Sigterm_with_no_client_exits_0_within_a_few_seconds()
    {
        await using var server = await ServerProcess.StartAsync();
        var since = Stopwatch.StartNew();
        Assert.Equal(0, await server.TerminateAsync(within: TimeSpan.FromSeconds(30)));
        Assert.True(since.Elapsed < FewSeconds, $"the server took {since.Elapsed} to exit; log:\n{server.Log}");
    }

    /// <summary>A named text client, a text client in the dialog, and a binary client in the dialog.</summary>
    private static async Task<(TestClient Named, TestClient InDialog, TestClient Binary)> ThreeClients(ServerProcess server)
    {
        var named = await TestClient.NamedAsync(server.TextPort);
        var inDialog = await TestClient.ConnectAsync(server.TextPort);
        Assert.Equal(["Welcome!", "What's your name?"], await inDialog.ReadLinesAsync(2));
        var binary = await TestClient.ConnectAsync(server.BinaryPort);
        Assert.Equal("Welcome!", await binary.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await binary.ReadFrameTextAsync());
        // A round trip proves the named client's session is fully up before the signal.
        await named.SendAsync("PING\n");
        Assert.Equal("PONG", await named.ReadLineAsync());
        return (named, inDialog, binary);
    }
}
