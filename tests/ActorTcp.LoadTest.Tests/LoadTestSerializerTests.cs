using ActorTcp.LoadTest.Cluster;
using ActorTcp.LoadTest.Metrics;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using HdrHistogram;

namespace ActorTcp.LoadTest.Tests;

/// <summary>What crosses between a coordinator and its workers must come back exactly as it left.</summary>
public sealed class LoadTestSerializerTests : TestKit
{
    private readonly LoadTestSerializer _serializer;

    public LoadTestSerializerTests() => _serializer = new LoadTestSerializer((ExtendedActorSystem)Sys);

    private T RoundTrip<T>(T message) where T : notnull => (T)_serializer.FromBinary(_serializer.ToBinary(message), _serializer.Manifest(message));

    [Fact]
    public void A_progress_sample_keeps_its_counts_its_error_kinds_and_every_latency_bucket()
    {
        var latency = new LongHistogram(1, 3_600_000_000, 3);
        latency.RecordValueWithCount(120, 7);
        latency.RecordValueWithCount(95_000, 2);
        latency.RecordValue(2_000_000_000);
        var progress = new Progress { Clients = 10, ClientsStarted = 9, ConnectedNow = 8, Ops = 1234, Errors = 3, ErrorKinds = new() { ["refused"] = 3 } };
        var sample = RoundTrip(new ProgressSample("local-1", 7, 100, 3, 8, latency, progress));

        Assert.Equal(("local-1", 7, 100L, 3L, 8L), (sample.Worker, sample.Second, sample.Requests, sample.Errors, sample.ConnectedNow));
        Assert.Equal(10, sample.LatencyUs.TotalCount);
        Assert.Equal(latency.GetValueAtPercentile(50), sample.LatencyUs.GetValueAtPercentile(50));
        Assert.Equal(latency.GetMaxValue(), sample.LatencyUs.GetMaxValue());
        Assert.Equal(1234, sample.Progress.Ops);
        Assert.Equal(3, sample.Progress.ErrorKinds["refused"]);
    }

    [Fact]
    public void A_worker_result_merges_after_the_trip_as_it_would_have_before()
    {
        static NodeResult Result(long baseUs, int count)
        {
            var h = new LongHistogram(1, 3_600_000_000, 3);
            for (var i = 0; i < count; i++)
            {
                h.RecordValue(baseUs + i * 37);
            }
            return new NodeResult
            {
                Processes = 1,
                Clients = count,
                ClientsCompleted = count,
                WindowSeconds = 2.5,
                Ops = new() { ["echo"] = new OpResult { Count = count, LatencyUs = HistogramData.From(h) } },
                ConnectUs = HistogramData.From(h),
                Errors = new() { ["reset"] = 2 },
                ErrorSamples = ["e.g. one"],
                PeakRssKb = 1000,
            };
        }
        var a = Result(100, 500);
        var b = Result(90_000, 300);
        var sent = RoundTrip(new WorkerResult("w1", a));
        var merged = NodeResult.Merge([sent.Result, RoundTrip(new WorkerResult("w2", b)).Result]);
        var expected = NodeResult.Merge([a, b]);

        Assert.Equal("w1", sent.Name);
        Assert.Equal(expected.Ops["echo"].Count, merged.Ops["echo"].Count);
        Assert.Equal(expected.Ops["echo"].LatencyUs.Buckets.Select(x => (x[0], x[1])), merged.Ops["echo"].LatencyUs.Buckets.Select(x => (x[0], x[1])));
        Assert.Equal(4, merged.Errors["reset"]);
        Assert.Equal(2.5, merged.WindowSeconds);
        Assert.Equal(2000, merged.PeakRssKb);
        Assert.Equal(["e.g. one", "e.g. one"], merged.ErrorSamples);
    }

    [Fact]
    public void Commands_keep_their_arguments()
    {
        Assert.Equal(["--clients", "10"], RoundTrip(new Assign(["--clients", "10"])).Args);
        Assert.Equal(TimeSpan.FromMilliseconds(1500), RoundTrip(new Finish(TimeSpan.FromMilliseconds(1500))).Drain);
        Assert.Same(StartRun.Instance, RoundTrip(StartRun.Instance));
        Assert.Equal(new WorkerHello("n", 42, "box"), RoundTrip(new WorkerHello("n", 42, "box")));
    }
}
