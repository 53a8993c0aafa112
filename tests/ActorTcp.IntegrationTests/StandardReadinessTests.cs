// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>
/// Where the epoll loops cannot run, each socket waits on .NET's own asynchronous receive instead. This server is
/// told to take that path (ACTORTCP_READINESS=async), so that it stays proven on the machines that have epoll.
/// </summary>
public sealed class StandardReadinessServer : IAsyncLifetime
{
    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync() =>
        Server = await ServerProcess.StartUnderAsync(["/usr/bin/env", "ACTORTCP_READINESS=async"]);

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

public sealed class StandardReadinessTests(StandardReadinessServer fixture) : IClassFixture<StandardReadinessServer>
{
    [Fact]
    public void The_server_says_it_waits_on_asynchronous_receives()
    {
        Assert.Contains("readiness from asynchronous receives", fixture.Server.Log);
    }

    [Fact]
    public async Task Pipelined_requests_split_anywhere_are_answered_in_order()
    {
        await using var client = await TestClient.NamedAsync(fixture.Server.TextPort);
        foreach (var b in Encoding.ASCII.GetBytes("PING\nECHO one\nECHO two\nPING\n")) await client.SendAsync([b]);
        Assert.Equal(["PONG", "one", "two", "PONG"], await client.ReadLinesAsync(4));
    }

    [Fact]
    public async Task A_half_closed_client_gets_every_reply_and_the_file_then_the_close()
    {
        await using var client = await TestClient.NamedAsync(fixture.Server.TextPort);
        await client.SendAsync("GET welcome.txt 0 5\nECHO last");
        client.HalfClose();
        Assert.Equal("OK 5\nHellolast\n", Encoding.UTF8.GetString(await client.ReadToEndAsync()));
    }

    [Fact]
    public async Task Binary_frames_are_answered_with_frames()
    {
        await using var client = await TestClient.ConnectAsync(fixture.Server.BinaryPort);
        Assert.Equal("Welcome!", await client.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        await client.SendFrameAsync("neo");
        await client.SendFrameAsync("ECHO a\nb");
        Assert.Equal("Hello neo!", await client.ReadFrameTextAsync());
        Assert.Equal("a\nb", await client.ReadFrameTextAsync());
    }
}
