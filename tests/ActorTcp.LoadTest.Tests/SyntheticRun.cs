using System.Net;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Output;
using HdrHistogram;

namespace ActorTcp.LoadTest.Tests;

/// <summary>
/// A made-up but plausible run for the report tests: two workers ramp 200 echo clients up in 3 s, hold about
/// 18,000 requests/s for 20 s with a latency hiccup (and a few timeouts) at second 12, then drain.
/// Seeded, so every test sees the same figures.
/// </summary>
internal sealed class SyntheticRun
{
    public const int Seconds = 26;

    public SyntheticRun(LoadOptions? options = null)
    {
        Options = options ?? new LoadOptions
        {
            Ports = [6000],
            Scenario = Scenario.Echo,
            Clients = 200,
            Processes = 2,
            Duration = TimeSpan.FromSeconds(20),
        };
        var random = new Random(11);
        Latency = new LongHistogram(1, 3_600_000_000, 3);
        long requests = 0, errors = 0;
        foreach (var worker in new[] { "worker-1@127.0.0.1:40001", "worker-2@127.0.0.1:40002" })
        {
            for (var s = 0; s < Seconds; s++)
            {
                var connections = s switch { < 3 => (s + 1) * 33, < 24 => 100, 24 => 40, _ => 0 };
                var rate = s is >= 3 and < 24 ? 9000 + random.Next(-400, 400) : connections * 30;
                var hiccup = s == 12;
                var second = new LongHistogram(1, 3_600_000_000, 3);
                for (var i = 0; i < rate; i++)
                {
                    // Log-normal around 0.8 ms, with a slow tail that grows during the hiccup.
                    var us = 800 * Math.Exp(0.35 * Normal(random));
                    if (random.NextDouble() < (hiccup ? 0.05 : 0.003))
                    {
                        us *= hiccup ? 40 : 8;
                    }
                    second.RecordValue(Math.Max(1, (long)us));
                }
                var failed = hiccup ? 7 : 0;
                Timeline.Add(worker, s, rate, failed, connections, second);
                Latency.Add(second);
                requests += rate;
                errors += failed;
            }
        }
        var result = new NodeResult
        {
            Processes = 2,
            Clients = Options.Clients,
            ClientsCompleted = Options.Clients,
            ConnectsStarted = Options.Clients,
            Connected = Options.Clients,
            PeakAlive = Options.Clients,
            AliveAtWindowEnd = Options.Clients,
            WindowSeconds = 20,
            Ops = new() { ["echo"] = new OpResult { Count = requests, LatencyUs = HistogramData.From(Latency) } },
            ConnectUs = HistogramData.From(Handshakes(random)),
            Errors = new() { ["timeout: no reply within 10 s"] = errors },
            ErrorSamples = ["lt17: no reply to ECHO within 10 s <after 3 requests> & counting"],
            BytesInWindow = requests * 70,
            BytesOutWindow = requests * 70,
            BytesInTotal = requests * 72,
            BytesOutTotal = requests * 72,
            CpuSecondsWindow = 9.5,
            CpuSecondsTotal = 12,
            PeakRssKb = 180_000,
        };
        Report = new RunReport(Options, result, server: null, rampSeconds: 3.1, rampComplete: true);
    }

    public LoadOptions Options { get; }
    public Timeline Timeline { get; } = new();
    public LongHistogram Latency { get; }
    public RunReport Report { get; }

    public string Render() => HtmlReport.Render(Report, Timeline, Latency);

    private static LongHistogram Handshakes(Random random)
    {
        var histogram = new LongHistogram(1, 3_600_000_000, 3);
        for (var i = 0; i < 200; i++)
        {
            histogram.RecordValue(300 + random.Next(0, 2000));
        }
        return histogram;
    }

    private static double Normal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());

    public static LoadOptions OptionsWith(string namePrefix) => new()
    {
        Host = IPAddress.Parse("127.0.0.5"),
        Ports = [6001, 6002],
        Scenario = Scenario.Mixed,
        Clients = 1234,
        Processes = 3,
        Ramp = 750,
        Duration = TimeSpan.FromSeconds(42),
        Payload = 321,
        Pipeline = 4,
        NamePrefix = namePrefix,
    };
}
