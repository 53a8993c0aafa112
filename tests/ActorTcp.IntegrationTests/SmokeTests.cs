namespace ActorTcp.IntegrationTests;

public sealed class SmokeTests
{
    [Fact]
    public async Task A_client_completes_the_dialog_and_pings_over_a_real_socket()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var client = await TestClient.NamedAsync(server.TextPort);
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }
}
