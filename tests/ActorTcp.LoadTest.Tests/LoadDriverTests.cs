using System.Net;
using System.Net.Sockets;
using ActorTcp.LoadTest.Clients;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace ActorTcp.LoadTest.Tests;

/// <summary>The ramp: a Throttle stage at the asked rate, held back while --max-connecting handshakes are in flight.</summary>
public sealed class LoadDriverTests : TestKit
{
    [Theory]
    [InlineData(5000, 5000, 1.0, 500)]
    [InlineData(0.5, 1, 2.0, 1)]
    [InlineData(250, 250, 1.0, 25)]
    public void The_throttle_is_given_whole_elements_per_period_at_the_asked_rate_and_a_100_ms_burst(double perSecond, int elements, double perSeconds, int burst)
    {
        var (e, per, b) = LoadDriver.Rate(perSecond);
        Assert.Equal((elements, burst), (e, b));
        Assert.Equal(perSeconds, per.TotalSeconds, 6);
        Assert.Equal(perSecond, e / per.TotalSeconds, 6);
    }

    [Fact]
    public async Task No_more_clients_start_while_max_connecting_handshakes_are_unanswered()
    {
        // The kernel completes the TCP handshakes, but nobody ever says Welcome: no client settles.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(64);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var metrics = new LoadMetrics();
        var options = new LoadOptions { Ports = [port], Clients = 10, Ramp = 1000, MaxConnecting = 3 };
        var run = new RunContext(options, metrics);
        var finished = new TaskCompletionSource();
        var driver = Sys.ActorOf(LoadDriver.Props(run, 10, 0, finished));

        await Task.Delay(300);
        Assert.Equal(0, Interlocked.Read(ref metrics.ClientsStarted));
        driver.Tell(BeginRamp.Instance);
        await AwaitConditionAsync(() => Task.FromResult(Interlocked.Read(ref metrics.ClientsStarted) == 3), TimeSpan.FromSeconds(10));
        // At 1,000/s the other seven would be up within 10 ms if the bound did not hold them.
        await Task.Delay(500);
        Assert.Equal(3, Interlocked.Read(ref metrics.ClientsStarted));

        driver.Tell(StopAll.Instance);
        await AwaitConditionAsync(() => Task.FromResult(Interlocked.Read(ref metrics.ClientsStarted) == 10), TimeSpan.FromSeconds(10));
        Assert.Equal(7, metrics.Errors["not started: ramp did not finish in time"]);
    }
}
