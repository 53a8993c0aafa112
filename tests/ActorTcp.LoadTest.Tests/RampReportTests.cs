// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Output;
using Xunit;

namespace ActorTcp.LoadTest.Tests;

public sealed class RampReportTests
{
    private static RunReport Report(int clients, double ramp, double rampSeconds, Scenario scenario = Scenario.Idle)
    {
        var run = new SyntheticRun(new LoadOptions { Ports = [6000], Scenario = scenario, Clients = clients, Ramp = ramp });
        return new RunReport(run.Options, run.Report.Result, server: null, rampSeconds, rampComplete: true);
    }

    [Fact]
    public void A_ramp_well_below_the_rate_asked_says_so_with_the_rate_it_reached()
    {
        var report = Report(clients: 50_000, ramp: 5_000, rampSeconds: 20.8);

        Assert.True(report.RampSlow);
        Assert.Equal(50_000 / 20.8, report.RampReached!.Value, 6);
        Assert.Equal("20.8 s, 2,404 connections/s of 5,000 asked (SLOWER THAN ASKED)", report.RampLine);
    }

    [Fact]
    public void A_ramp_at_the_rate_asked_gives_the_rate_without_a_warning()
    {
        var report = Report(clients: 10_000, ramp: 5_000, rampSeconds: 2.1);

        Assert.False(report.RampSlow);
        Assert.Equal("2.1 s, 4,762 connections/s of 5,000 asked", report.RampLine);
    }

    [Fact]
    public void A_scenario_measured_from_its_start_has_no_ramp_rate()
    {
        var report = Report(clients: 50, ramp: 5_000, rampSeconds: 0, scenario: Scenario.Churn);

        Assert.Null(report.RampReached);
        Assert.False(report.RampSlow);
    }
}
