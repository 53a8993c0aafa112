using ActorTcp.LoadTest.Clients;
using ActorTcp.LoadTest.Options;

namespace ActorTcp.LoadTest.Tests;

public sealed class BackoffTests
{
    [Fact]
    public void The_ceiling_doubles_from_50_ms_and_stops_at_5_s()
    {
        Assert.Equal(TimeSpan.FromMilliseconds(50), Backoff.Delay(0, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(100), Backoff.Delay(1, 1));
        Assert.Equal(TimeSpan.FromMilliseconds(3200), Backoff.Delay(6, 1));
        Assert.Equal(TimeSpan.FromSeconds(5), Backoff.Delay(7, 1));
        Assert.Equal(TimeSpan.FromSeconds(5), Backoff.Delay(int.MaxValue, 1));
    }

    [Fact]
    public void Each_delay_is_a_uniform_pick_under_the_ceiling_so_clients_spread_out()
    {
        Assert.Equal(TimeSpan.Zero, Backoff.Delay(3, 0));
        Assert.Equal(TimeSpan.FromMilliseconds(200), Backoff.Delay(3, 0.5));
        var random = new Random(7);
        var delays = Enumerable.Range(0, 1000).Select(_ => Backoff.Delay(4, random.NextDouble())).ToList();
        Assert.All(delays, d => Assert.InRange(d, TimeSpan.Zero, TimeSpan.FromMilliseconds(800)));
        Assert.True(delays.Distinct().Count() > 900, "the delays should hardly ever coincide");
    }
}

public sealed class TargetTests
{
    [Fact]
    public void A_target_outside_loopback_is_refused_unless_its_private_network_is_allowed()
    {
        Assert.Throws<UsageException>(() => LoadOptions.Parse(["--port", "6000", "--host", "10.77.0.2"]));
        var o = LoadOptions.Parse(["--port", "6000", "--host", "10.77.0.2", "--allow-network", "10.77.0.0/24", "--reconnect"]);
        Assert.Equal("10.77.0.2", o.Host.ToString());
        Assert.True(o.Reconnect);
        Assert.Contains("--reconnect", o.ToWorkerArgs(1, 0, 1));
        Assert.Throws<UsageException>(() => LoadOptions.Parse(["--port", "6000", "--host", "10.78.0.2", "--allow-network", "10.77.0.0/24"]));
        Assert.Throws<UsageException>(() => LoadOptions.Parse(["--port", "6000", "--host", "8.8.8.8", "--allow-network", "8.8.8.0/24"]));
    }
}
