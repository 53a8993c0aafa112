using ActorTcp.LoadTest.Options;

namespace ActorTcp.LoadTest.Tests;

/// <summary>The flags of a run across processes and machines, and of <c>worker --join</c>.</summary>
public sealed class ClusterOptionsTests
{
    [Fact]
    public void A_run_with_workers_from_elsewhere_is_distributed_and_keeps_its_cluster_endpoint_and_report()
    {
        var o = LoadOptions.Parse(["--port", "6000", "--processes", "0", "--workers", "3", "--cluster-host", "10.0.0.5", "--cluster-port", "4070",
            "--join-timeout", "90s", "--report", "run.html"]);

        Assert.True(o.Distributed);
        Assert.Equal((0, 3, "10.0.0.5", 4070, TimeSpan.FromSeconds(90), "run.html"), (o.Processes, o.Workers, o.ClusterHost, o.ClusterPort, o.JoinTimeout, o.ReportPath));
    }

    [Fact]
    public void One_process_and_no_workers_runs_in_this_process()
    {
        var o = LoadOptions.Parse(["--port", "6000"]);

        Assert.False(o.Distributed);
        Assert.Equal(("127.0.0.1", 0), (o.ClusterHost, o.ClusterPort));
    }

    [Theory]
    [InlineData("--processes 0", "--processes 0 leaves no one to run the clients: give --workers M")]
    [InlineData("--cluster-host example.org", "--cluster-host example.org: expected an IPv4 address of this machine")]
    [InlineData("--cluster-port 70000", "--cluster-port 70000: expected a whole number from 0 to 65535")]
    public void Bad_cluster_flags_are_refused_with_the_flag_named(string flags, string message)
    {
        var e = Assert.Throws<UsageException>(() => LoadOptions.Parse(["--port", "6000", .. flags.Split(' ')]));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_worker_joins_the_given_endpoint_under_its_name()
    {
        var o = WorkerOptions.Parse(["--join", "10.0.0.5:4070", "--name", "box-7", "--cluster-host", "10.0.0.6", "--cluster-port", "4071", "--join-timeout", "30s"]);

        Assert.Equal(("10.0.0.5", 4070, "box-7", "10.0.0.6", 4071, TimeSpan.FromSeconds(30)), (o.JoinHost, o.JoinPort, o.Name, o.ClusterHost, o.ClusterPort, o.JoinTimeout));
    }

    [Theory]
    [InlineData("--name x", "worker needs --join HOST:PORT")]
    [InlineData("--join 10.0.0.5", "--join 10.0.0.5: expected HOST:PORT, e.g. 127.0.0.1:4070")]
    [InlineData("--join 10.0.0.5:0", "--join 10.0.0.5:0: expected HOST:PORT, e.g. 127.0.0.1:4070")]
    [InlineData("--join 10.0.0.5:4070 --name a/b", "--name a/b: letters, digits, '-', '_' and '.' only, at most 64")]
    [InlineData("--join 10.0.0.5:4070 --clients 5", "unknown worker flag --clients")]
    public void Bad_worker_flags_are_refused_with_the_flag_named(string flags, string message)
    {
        var e = Assert.Throws<UsageException>(() => WorkerOptions.Parse(flags.Split(' ')));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void A_share_given_to_a_worker_parses_back_to_its_clients_offset_and_ramp()
    {
        var run = LoadOptions.Parse(["--port", "6000,6001", "--clients", "30000", "--processes", "3", "--ramp", "5000", "--duration", "20s"]);
        var share = LoadOptions.Parse([.. run.ToWorkerArgs(10_000, 20_000, 5000.0 / 3)]);

        Assert.Equal((10_000, 20_000, 30_000), (share.Clients, share.ClientOffset, share.TotalClients));
        Assert.Equal(5000.0 / 3, share.Ramp, 9);
        Assert.Equal(run.SourceIps, share.SourceIps);
        Assert.Equal(run.HardLimit, share.HardLimit);
    }
}
