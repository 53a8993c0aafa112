using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>One server on the Akka.IO transport, which every test of its class shares.</summary>
public sealed class AkkaIoServerFixture : IAsyncLifetime
{
    public string Files { get; } = Directory.CreateTempSubdirectory("actortcp-akkaio-").FullName;

    public byte[] Data { get; } = Enumerable.Range(0, 300_000).Select(i => (byte)(i * 7)).ToArray();

    public ServerProcess Server { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await File.WriteAllBytesAsync(Path.Combine(Files, "data.bin"), Data);
        Server = await ServerProcess.StartAsync("actor-tcp.transport = akka-io", "--files", Files);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(Files, recursive: true);
    }
}

/// <summary>
/// The same sessions over the other transport behind the seam: Akka.IO's connection actors, whose writes are
/// acknowledged by message and whose reads are pushed. The default transport runs the whole suite; this runs
/// the parts where the two differ.
/// </summary>
public sealed class AkkaIoTransportTests(AkkaIoServerFixture fixture) : IClassFixture<AkkaIoServerFixture>
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task The_dialog_and_pipelined_commands_are_answered_in_order()
    {
        await using var client = await TestClient.NamedAsync(Server.TextPort, "akka");
        await client.SendAsync(string.Concat(Enumerable.Range(0, 50).Select(i => $"ECHO {i}\n")) + "PING\n");
        var lines = await client.ReadLinesAsync(51);
        Assert.Equal(Enumerable.Range(0, 50).Select(i => i.ToString()).Append("PONG"), lines);
    }

    [Fact]
    public async Task A_half_closed_client_gets_every_reply_then_the_close()
    {
        await using var client = await TestClient.NamedAsync(Server.TextPort);
        await client.SendAsync("PING\nECHO last");
        client.HalfClose();
        Assert.Equal(["PONG", "last"], await client.ReadLinesAsync(2));
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Binary_frames_work_over_akka_io()
    {
        await using var client = await TestClient.ConnectAsync(Server.BinaryPort);
        Assert.Equal("Welcome!", await client.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        await client.SendFrameAsync("neo");
        await client.SendFrameAsync("ECHO a\nb");
        Assert.Equal("Hello neo!", await client.ReadFrameTextAsync());
        Assert.Equal("a\nb", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task A_file_arrives_byte_for_byte_with_a_request_pipelined_behind_it()
    {
        await using var client = await TestClient.NamedAsync(Server.TextPort);
        await client.SendAsync("GET data.bin\nPING\n");
        Assert.Equal($"OK {fixture.Data.Length}", await client.ReadLineAsync());
        Assert.Equal(fixture.Data, await client.ReadBytesAsync(fixture.Data.Length));
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_client_that_does_not_read_is_held_back_and_then_gets_every_reply()
    {
        await using var client = await TestClient.NamedAsync(Server.TextPort, "slow");
        var request = Encoding.ASCII.GetBytes("ECHO " + new string('q', 1000) + "\n");
        var batch = Enumerable.Repeat(request, 2000).SelectMany(b => b).ToArray();
        var send = client.SendAsync(batch);
        // Reading everything back proves no reply was lost while the server held the client back.
        for (var i = 0; i < 2000; i++) Assert.Equal(1000, (await client.ReadLineAsync())!.Length);
        await send;
    }
}
