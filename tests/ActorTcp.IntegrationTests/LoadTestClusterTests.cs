using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ActorTcp.IntegrationTests;

/// <summary>
/// The load generator's run across processes (README, load generator): a coordinator and its workers form one Akka
/// cluster on loopback. Real processes throughout; these run in the cluster collection, alone, because they lean on
/// the failure detector's timing.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class LoadTestClusterTests
{
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Two_local_workers_results_add_up_exactly_to_the_requests_the_server_counted()
    {
        await using var server = await ServerProcess.StartAsync();
        var scratch = Directory.CreateTempSubdirectory("actortcp-lt-");
        var json = Path.Combine(scratch.FullName, "run.json");
        await using var run = LoadTestProcess.Start(
            "--port", server.TextPort.ToString(CultureInfo.InvariantCulture), "--scenario", "echo", "--clients", "40", "--processes", "2",
            "--duration", "2s", "--warmup", "0s", "--drain", "5s", "--no-live", "--json", json);

        Assert.Equal(0, await run.ExitCodeAsync(RunLimit));

        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(json));
        var root = report.RootElement;
        var workers = root.GetProperty("workers").EnumerateArray().ToList();
        Assert.Equal(["local-1", "local-2"], workers.Select(w => w.GetProperty("name").GetString()));
        Assert.All(workers, w => Assert.Equal(20, w.GetProperty("clients").GetInt32()));
        Assert.All(workers, w => Assert.True(w.GetProperty("ops_total").GetInt64() > 0, "a worker with no requests did not run"));
        Assert.Equal(workers.Sum(w => w.GetProperty("ops_total").GetInt64()), root.GetProperty("ops_total").GetInt64());
        Assert.Equal(2, root.GetProperty("processes").GetInt32());
        Assert.Empty(root.GetProperty("errors").EnumerateObject());
        Assert.Equal(40, root.GetProperty("clients_completed").GetInt64());

        // Every client named itself once, echoed, and said QUIT once; the server counts each of those requests.
        var checkedReplies = workers.Sum(w => w.GetProperty("connected").GetInt64() + w.GetProperty("ops_total").GetInt64() + w.GetProperty("clients_completed").GetInt64());
        await using var probe = await TestClient.NamedAsync(server.TextPort, "probe");
        var stats = await probe.StatsAsync();
        Assert.Equal(checkedReplies + 1, long.Parse(stats["requests"], CultureInfo.InvariantCulture));
        scratch.Delete(recursive: true);
    }

    [Fact]
    public async Task A_worker_killed_mid_run_is_named_with_what_it_had_done_and_the_run_exits_non_zero()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var run = LoadTestProcess.Start(
            "--port", server.TextPort.ToString(CultureInfo.InvariantCulture), "--scenario", "echo", "--clients", "20", "--processes", "2",
            "--duration", "60s", "--warmup", "0s", "--no-live");
        var joined = await run.LineAsync(l => l.StartsWith("worker local-2 joined", StringComparison.Ordinal), TimeSpan.FromSeconds(45));
        var pid = int.Parse(PidPattern().Match(joined).Groups[1].Value, CultureInfo.InvariantCulture);
        await run.LineAsync(l => l.Contains(" measuring ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        var killedAt = Stopwatch.StartNew();
        LoadTestProcess.KillHard(pid);
        var exit = await run.ExitCodeAsync(RunLimit);

        Assert.Equal(1, exit);
        // Known by the dropped connection (3 s to be sure), then the survivor drains: far inside the run's 60 s window.
        Assert.True(killedAt.Elapsed < TimeSpan.FromSeconds(40), $"the run took {killedAt.Elapsed} to end after the kill");
        Assert.Contains($"error: worker local-2 (pid {pid}, exited with code 137", run.Stderr);
        Assert.Matches(@"was lost mid-run \(its connection dropped .*\); it had started 10 of 10 clients, \d+ connected, 0 finished, [\d,]+ requests", run.Stderr);
        Assert.Contains("worker lost: local-2", run.Stdout);
        Assert.Contains("worker    local-1: 10 clients, completed 10, failed 0", run.Stdout);
    }

    [Fact]
    public async Task A_worker_that_loses_its_coordinator_stops_about_ten_seconds_later()
    {
        await using var server = await ServerProcess.StartAsync();
        await using var coordinator = LoadTestProcess.Start(
            "--port", server.TextPort.ToString(CultureInfo.InvariantCulture), "--scenario", "idle", "--clients", "10", "--processes", "0",
            "--workers", "1", "--duration", "60s", "--warmup", "0s", "--no-live");
        var listening = await coordinator.LineAsync(l => l.StartsWith("cluster 127.0.0.1:", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var endpoint = listening.Split(' ')[1].TrimEnd(':');
        await using var worker = LoadTestProcess.Start("worker", "--join", endpoint, "--name", "far-away");
        await coordinator.LineAsync(l => l.StartsWith("worker far-away joined", StringComparison.Ordinal), TimeSpan.FromSeconds(45));
        await coordinator.LineAsync(l => l.Contains(" measuring ", StringComparison.Ordinal), TimeSpan.FromSeconds(30));

        var killedAt = Stopwatch.StartNew();
        LoadTestProcess.KillHard(coordinator.Pid);
        var exit = await worker.ExitCodeAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(4, exit);
        Assert.InRange(killedAt.Elapsed, TimeSpan.FromSeconds(9), TimeSpan.FromSeconds(16));
        Assert.Contains($"worker far-away: lost the coordinator at {endpoint} for 10 s; stopping", worker.Stderr);
    }

    [Fact]
    public async Task A_coordinator_whose_workers_do_not_join_names_who_is_missing_and_exits_non_zero()
    {
        await using var run = LoadTestProcess.Start(
            "--port", "9", "--clients", "10", "--processes", "0", "--workers", "2", "--join-timeout", "2s", "--no-live");

        Assert.Equal(1, await run.ExitCodeAsync(RunLimit));
        Assert.Contains("error: 2 of 2 worker(s) did not join within 2 s (--join-timeout): missing 2 of the 2 worker(s) from elsewhere (--workers 2); joined: none", run.Stderr);
    }

    [Fact]
    public async Task A_worker_that_is_never_given_a_run_exits_at_its_join_timeout()
    {
        // Nobody listens on the port a just-closed socket had: the worker keeps trying to join until its bound.
        using var closed = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        closed.Start();
        var port = ((System.Net.IPEndPoint)closed.LocalEndpoint).Port;
        closed.Stop();
        var started = Stopwatch.StartNew();
        await using var worker = LoadTestProcess.Start("worker", "--join", $"127.0.0.1:{port}", "--name", "alone", "--join-timeout", "3s");

        Assert.Equal(3, await worker.ExitCodeAsync(TimeSpan.FromSeconds(30)));
        Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(20));
        Assert.Contains("worker alone: no run assigned within 3 s (--join-timeout)", worker.Stderr);
    }

    [GeneratedRegex(@"\(pid (\d+) ")]
    private static partial Regex PidPattern();
}
