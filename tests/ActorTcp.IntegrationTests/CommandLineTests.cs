using System.Net;
using System.Net.Sockets;

namespace ActorTcp.IntegrationTests;

/// <summary>The executable as an operator meets it: --help, --version, and clear one-line errors.</summary>
public sealed class CommandLineTests
{
    [Fact]
    public async Task Help_exits_0_and_lists_every_flag()
    {
        var (exit, stdout, stderr) = await ServerProcess.RunToEndAsync("--help");
        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        foreach (var flag in new[] { "--config", "--host", "--port", "--binary-port", "--files", "--idle-timeout", "--max-connections", "--cluster-port", "--seed", "--version", "--help" })
            Assert.Contains(flag, stdout);
        Assert.DoesNotContain(stdout.Split('\n'), line => line.StartsWith("listening ", StringComparison.Ordinal));
    }

    [Fact]
    public void Seed_flags_add_up_to_one_list_of_seed_nodes()
    {
        var options = ActorTcp.Server.ServerOptions.Parse(["--cluster-port", "4053", "--seed", "10.0.0.1:4053", "--seed=10.0.0.2:4053"]);
        Assert.Equal(["actor-tcp.cluster.port = \"4053\"", "actor-tcp.cluster.seed-nodes = [\"10.0.0.1:4053\", \"10.0.0.2:4053\"]"], options.Overrides);
    }

    [Fact]
    public async Task Version_exits_0_and_prints_ActorTcp_and_the_version()
    {
        var (exit, stdout, stderr) = await ServerProcess.RunToEndAsync("--version");
        Assert.Equal(0, exit);
        Assert.Equal("", stderr);
        Assert.Equal($"ActorTcp {ActorTcp.Server.ActorTcpHosting.Version}", stdout.TrimEnd('\n'));
        Assert.Matches(@"^ActorTcp \d+\.\d+\.\d+\S*\n$", stdout);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--idle-timeout", "banana")]
    [InlineData("--idle-timeout", "0s")]
    [InlineData("--port", "99999")]
    [InlineData("--port")]
    [InlineData("--binary-port", "twelve")]
    [InlineData("--max-connections", "-3")]
    [InlineData("--host", "not-an-address")]
    [InlineData("--files", "/nonexistent/actortcp-files")]
    [InlineData("--config", "/nonexistent/actortcp.conf")]
    [InlineData("--cluster-port", "many")]
    [InlineData("--cluster-port", "0", "--seed", "just-a-host")]
    public async Task A_bad_flag_or_setting_exits_non_zero_with_one_line_on_stderr(params string[] args)
    {
        var (exit, stdout, stderr) = await ServerProcess.RunToEndAsync(["--port", "0", "--binary-port", "0", .. args]);
        Assert.NotEqual(0, exit);
        AssertOneErrorLine(stderr);
        Assert.DoesNotContain("listening", stdout);
    }

    [Fact]
    public async Task A_bad_value_in_the_config_file_exits_non_zero_naming_the_key()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory("actortcp-cli-").FullName, "bad.conf");
        await File.WriteAllTextAsync(file, "actor-tcp { max-line-bytes = lots }");
        try
        {
            var (exit, _, stderr) = await ServerProcess.RunToEndAsync("--port", "0", "--binary-port", "0", "--config", file);
            Assert.NotEqual(0, exit);
            AssertOneErrorLine(stderr);
            Assert.Contains("max-line-bytes", stderr);
        }
        finally
        {
            Directory.Delete(Path.GetDirectoryName(file)!, recursive: true);
        }
    }

    [Theory]
    [InlineData("--port")]
    [InlineData("--binary-port")]
    public async Task A_port_already_in_use_exits_non_zero_with_one_clear_line_and_no_stack_trace(string flag)
    {
        var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        try
        {
            var port = ((IPEndPoint)taken.LocalEndpoint).Port.ToString();
            string[] args = flag == "--port" ? ["--port", port, "--binary-port", "0"] : ["--port", "0", "--binary-port", port];
            var (exit, stdout, stderr) = await ServerProcess.RunToEndAsync(args);
            Assert.NotEqual(0, exit);
            Assert.DoesNotContain("listening", stdout);
            AssertOneErrorLine(stderr);
            Assert.Contains(port, stderr);
        }
        finally
        {
            taken.Stop();
        }
    }

    private static void AssertOneErrorLine(string stderr)
    {
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.DoesNotContain(stderr.Split('\n'), line => line.StartsWith("   at ", StringComparison.Ordinal));
        Assert.True(lines.Length == 1, $"expected one line on stderr, got {lines.Length}:\n{stderr}");
        Assert.StartsWith("actortcp:", lines[0]);
    }
}
