using ActorTcp.LoadTest.Metrics;
using HdrHistogram;

namespace ActorTcp.LoadTest.Tests;

public sealed class TimelineTests
{
    [Fact]
    public void Two_workers_in_the_same_second_add_up_to_one_point()
    {
        var timeline = new Timeline();
        timeline.Add("w1", 0, requests: 100, errors: 1, connections: 10, Latencies((500, 100)));
        timeline.Add("w2", 0, requests: 250, errors: 2, connections: 30, Latencies((700, 250)));

        var point = Assert.Single(timeline.Points);
        Assert.Equal(new TimelinePoint(0, 2, 350, 3, 40, 350, 700, 700), point with { P50Us = Round(point.P50Us), P99Us = Round(point.P99Us) });
    }

    [Fact]
    public void Seconds_nobody_reported_are_zero_points_in_order()
    {
        var timeline = new Timeline();
        timeline.Add("w1", 4, 40, 0, 4, null);
        timeline.Add("w1", 1, 10, 0, 1, null);

        var points = timeline.Points;
        Assert.Equal([0, 1, 2, 3, 4], points.Select(p => p.Second));
        Assert.Equal([0L, 10, 0, 0, 40], points.Select(p => p.Requests));
        Assert.Equal([0, 1, 0, 0, 1], points.Select(p => p.Workers));
        Assert.Equal(new TimelinePoint(2, 0, 0, 0, 0, 0, 0, 0), points[2]);
    }

    [Fact]
    public void A_later_sample_for_the_same_worker_and_second_replaces_the_gauge_and_adds_the_counts()
    {
        var timeline = new Timeline();
        timeline.Add("w1", 3, requests: 5, errors: 1, connections: 100, null);
        timeline.Add("w2", 3, requests: 7, errors: 0, connections: 50, null);
        timeline.Add("w1", 3, requests: 6, errors: 2, connections: 80, null);

        var point = timeline.Points[3];
        Assert.Equal(130, point.Connections);
        Assert.Equal(18, point.Requests);
        Assert.Equal(3, point.Errors);
        Assert.Equal(2, point.Workers);
    }

    [Fact]
    public void A_seconds_p99_comes_from_the_merged_histogram_not_from_the_workers_percentiles()
    {
        // w1: 1,000 requests at 1 ms, p99 1 ms. w2: 1,000 requests, 15 of them at 50 ms, so its own p99 is 50 ms.
        // Together 15 slow ones in 2,000 is 0.75 %: the second's p99 is 1 ms. An average of the two p99s would say
        // 25.5 ms and their maximum 50 ms.
        var timeline = new Timeline();
        timeline.Add("w1", 0, 1000, 0, 10, Latencies((1000, 1000)));
        timeline.Add("w2", 0, 1000, 0, 10, Latencies((1000, 985), (50_000, 15)));

        var point = Assert.Single(timeline.Points);
        Assert.Equal(2000, point.LatencyCount);
        Assert.Equal(1000, Round(point.P99Us));
        Assert.Equal(1000, Round(point.P50Us));

        // With 25 slow ones in 2,000 (1.25 %), the merged p99 is the slow value: the merge really counts them.
        var slower = new Timeline();
        slower.Add("w1", 0, 1000, 0, 10, Latencies((1000, 990), (50_000, 10)));
        slower.Add("w2", 0, 1000, 0, 10, Latencies((1000, 985), (50_000, 15)));
        Assert.Equal(50_000, Round(Assert.Single(slower.Points).P99Us));
    }

    [Fact]
    public void A_histogram_with_a_wider_range_than_the_timelines_is_merged_into_the_same_buckets()
    {
        var wide = new LongHistogram(1, long.MaxValue / 4, 3);
        wide.RecordValueWithCount(2_000, 99);
        wide.RecordValueWithCount(80_000, 1);
        var timeline = new Timeline();
        timeline.Add("w1", 0, 100, 0, 1, wide);

        var point = Assert.Single(timeline.Points);
        Assert.Equal(100, point.LatencyCount);
        Assert.Equal(2_000, Round(point.P99Us));
        Assert.Equal(2_000, Round(point.P50Us));
    }

    [Fact]
    public void Each_worker_is_summed_over_the_run_with_its_peak_gauge()
    {
        var timeline = new Timeline();
        timeline.Add("beta", 0, 10, 1, 5, null);
        timeline.Add("alpha", 0, 20, 0, 7, null);
        timeline.Add("beta", 1, 30, 2, 9, null);
        timeline.Add("beta", 2, 40, 0, 3, null);

        Assert.Equal(
            [new TimelineWorker("alpha", 20, 0, 7), new TimelineWorker("beta", 80, 3, 9)],
            timeline.Workers);
    }

    [Fact]
    public void An_empty_timeline_has_no_points_and_a_negative_second_is_refused()
    {
        var timeline = new Timeline();
        Assert.Empty(timeline.Points);
        Assert.Throws<ArgumentOutOfRangeException>(() => timeline.Add("w1", -1, 0, 0, 0, null));
    }

    internal static LongHistogram Latencies(params (long Us, long Count)[] values)
    {
        var histogram = new LongHistogram(1, 3_600_000_000, 3);
        foreach (var (us, count) in values)
        {
            histogram.RecordValueWithCount(us, count);
        }
        return histogram;
    }

    // HdrHistogram reports a bucket's highest equivalent value; at 3 significant digits that is within 0.1 %.
    private static long Round(long us) => us < 1000 ? us : (long)(Math.Round(us / Math.Pow(10, Math.Floor(Math.Log10(us)) - 2)) * Math.Pow(10, Math.Floor(Math.Log10(us)) - 2));

    [Fact]
    public void A_second_far_behind_the_newest_keeps_its_percentiles_after_its_histogram_is_let_go()
    {
        var timeline = new Timeline();
        var early = new LongHistogram(1, 3_600_000_000, 3);
        for (var v = 1; v <= 100; v++) early.RecordValue(v * 1000);
        timeline.Add("w1", 0, 100, 0, 10, early);
        var before = timeline.Points[0];

        timeline.Add("w1", Timeline.SealAfterSeconds + 5, 1, 0, 10, null);
        var late = new LongHistogram(1, 3_600_000_000, 3);
        late.RecordValue(900_000_000);
        timeline.Add("w2", 0, 1, 0, 5, late);

        var after = timeline.Points[0];
        Assert.Equal(before.P50Us, after.P50Us);
        Assert.Equal(before.P99Us, after.P99Us);
        Assert.Equal(100, after.LatencyCount);
        Assert.Equal(101, after.Requests);
        Assert.Equal(15, after.Connections);
    }
}
