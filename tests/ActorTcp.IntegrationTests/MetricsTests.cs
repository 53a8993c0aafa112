using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using ActorTcp.Protocol;

namespace ActorTcp.IntegrationTests;

/// <summary>The Prometheus endpoint of a real server process, read over HTTP while real clients come and go.</summary>
public sealed class MetricsTests
{
    private const string Active = "actortcp_active_connections";
    private const string Accepted = "actortcp_accepted_connections_total";
    private const string Rejected = "actortcp_rejected_connections_total";
    private const string Closed = "actortcp_closed_connections_total";
    private const string DurationCount = "actortcp_connection_duration_seconds_count";

    [Fact]
    public async Task Connections_on_both_listeners_closes_by_reason_durations_and_bytes_move_with_real_clients()
    {
        await using var server = await ServerProcess.StartAsync(
            "actor-tcp { handshake-timeout = 3s, heartbeat-tick = 100ms }", "--metrics-port", "0");
        var port = server.MetricsPort;

        // A client that never gives its name is closed for it, and that close is timed.
        await using (var silent = await TestClient.ConnectAsync(server.TextPort))
        {
            await Scrape.UntilAsync(port, s => s.Value(Active, ("listener", "text")) == 1, "the silent client");
            Assert.True(await silent.ReadToEndAsync() is { Length: > 0 });
        }
        // The series are read one after another by the exporter: wait until the scrape shows the close everywhere.
        var scrape = await Scrape.UntilAsync(port,
            s => s.Value(Closed, ("reason", "handshake_timeout")) == 1 && s.Value(Active, ("listener", "text")) == 0
                && s.Value(DurationCount) == 1,
            "a handshake_timeout close");
        Assert.Equal(0, scrape.Value(Active, ("listener", "text")));
        Assert.Equal(1, scrape.Value(DurationCount));
        Assert.InRange(scrape.Value("actortcp_connection_duration_seconds_sum"), 2.9, 10);

        await using var neo = await TestClient.NamedAsync(server.TextPort, "neo");
        await using var trinity = await BinaryNamedAsync(server.BinaryPort, "trinity");
        scrape = await Scrape.UntilAsync(port,
            s => s.Value(Active, ("listener", "text")) == 1 && s.Value(Active, ("listener", "binary")) == 1, "one client per listener");
        Assert.Equal(2, scrape.Value(Accepted, ("listener", "text")));
        Assert.Equal(1, scrape.Value(Accepted, ("listener", "binary")));

        // A GET moves the byte counters by at least the file's size; STATS reads the same counters.
        var size = new FileInfo(Path.Combine(AppContext.BaseDirectory, "config", "files", "welcome.txt")).Length;
        var before = await Scrape.GetAsync(port);
        await neo.SendAsync(RequestEncoder.Text.Encode("GET welcome.txt"));
        Assert.Equal($"OK {size}", await neo.ReadLineAsync());
        Assert.Equal(size, (await neo.ReadBytesAsync(size)).Length);
        scrape = await Scrape.UntilAsync(port,
            s => s.Value("actortcp_sent_bytes_total") >= before.Value("actortcp_sent_bytes_total") + size,
            "the file's bytes in actortcp_sent_bytes_total");
        Assert.True(scrape.Value("actortcp_received_bytes_total") >= before.Value("actortcp_received_bytes_total") + "GET welcome.txt\n".Length);
        Assert.True(scrape.Value("actortcp_requests_total") >= 1);
        var stats = await neo.StatsAsync();
        Assert.Equal(scrape.Sum(Accepted), double.Parse(stats["accepted"]));
        Assert.Equal(scrape.Value(Closed, ("reason", "handshake_timeout")), double.Parse(stats["closed_handshake_timeout"]));

        await neo.SendAsync(RequestEncoder.Text.Encode("QUIT"));
        Assert.Equal("Goodbye!", await neo.ReadLineAsync());
        scrape = await Scrape.UntilAsync(port,
            s => s.Value(Closed, ("reason", "quit")) == 1 && s.Value(Active, ("listener", "text")) == 0
                && s.Value(DurationCount) == 2, "a quit close");
        Assert.Equal(0, scrape.Value(Active, ("listener", "text")));
        Assert.Equal(1, scrape.Value(Active, ("listener", "binary")));
        Assert.Equal(2, scrape.Value(DurationCount));

        trinity.HalfClose();
        scrape = await Scrape.UntilAsync(port,
            s => s.Value(Active, ("listener", "binary")) == 0 && s.Value(Closed, ("reason", "peer_closed")) == 1
                && s.Value(DurationCount) == 3, "the binary client gone");
        Assert.Equal(1, scrape.Value(Closed, ("reason", "peer_closed")));
        Assert.Equal(3, scrape.Sum(Closed));
        Assert.Equal(3, scrape.Value(DurationCount));
        Assert.Equal(0, scrape.Sum(Rejected));
    }

    [Fact]
    public async Task Refused_clients_are_counted_once_as_rejected_with_their_reason_and_never_as_closed()
    {
        await using var server = await ServerProcess.StartAsync(
            "actor-tcp { max-connections = 2, max-connections-per-ip = 1 }", "--metrics-port", "0");
        await using var first = await TestClient.NamedAsync(server.TextPort, "first");
        await using (var sameAddress = await TestClient.ConnectAsync(server.TextPort))
            Assert.Equal("ERR too many connections from your address\n", Encoding.UTF8.GetString(await sameAddress.ReadToEndAsync()));
        await using var second = await TestClient.ConnectAsync(server.BinaryPort, IPAddress.Parse("127.0.0.2"));
        Assert.Equal("Welcome!", await second.ReadFrameTextAsync());
        await using (var third = await TestClient.ConnectAsync(server.TextPort, IPAddress.Parse("127.0.0.3")))
            Assert.Equal("ERR server full\n", Encoding.UTF8.GetString(await third.ReadToEndAsync()));

        var scrape = await Scrape.UntilAsync(port: server.MetricsPort, s => s.Sum(Rejected) == 2, "two refusals");
        Assert.Equal(1, scrape.Value(Rejected, ("reason", "per_ip_limit")));
        Assert.Equal(1, scrape.Value(Rejected, ("reason", "server_full")));
        Assert.Equal(0, scrape.Value(Rejected, ("reason", "shutdown")));
        Assert.Equal(0, scrape.Sum(Closed));
        Assert.DoesNotContain("server_full", scrape.LabelValues(Closed, "reason"));
        Assert.Equal(1, scrape.Value(Active, ("listener", "text")));
        Assert.Equal(1, scrape.Value(Active, ("listener", "binary")));
        Assert.Equal(2, scrape.Value("actortcp_max_connections"));
        Assert.Equal("2", (await first.StatsAsync())["rejected"]);
    }

    [Fact]
    public async Task Promtool_accepts_everything_the_endpoint_serves()
    {
        await using var server = await ServerProcess.StartAsync("", "--metrics-port", "0");
        await using (var client = await TestClient.NamedAsync(server.TextPort))
        {
            await client.SendAsync("quit\n");
            Assert.Equal("Goodbye!", await client.ReadLineAsync());
        }
        var scrape = await Scrape.UntilAsync(server.MetricsPort, s => s.Value(DurationCount) == 1, "a closed connection");
        Assert.True(scrape.Has("dotnet_gc_collections_total") || scrape.Has("dotnet_process_memory_working_set_bytes"),
            "the runtime's metrics are served beside ours");

        var (exit, output) = await RunAsync("promtool", ["check", "metrics"], scrape.Text);
        Assert.True(exit == 0, $"promtool check metrics failed ({exit}): {output}");
    }

    [Fact]
    public async Task Any_other_path_gets_404_a_malformed_request_400_and_the_TCP_listeners_never_notice()
    {
        await using var server = await ServerProcess.StartAsync("", "--metrics-port", "0");
        await using var client = await TestClient.NamedAsync(server.TextPort);

        Assert.StartsWith("HTTP/1.1 404", await RawHttpAsync(server.MetricsPort, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 404", await RawHttpAsync(server.MetricsPort, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 405", await RawHttpAsync(server.MetricsPort, "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 400", await RawHttpAsync(server.MetricsPort, "HELLO THERE\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 400", await RawHttpAsync(server.MetricsPort, "GET /metrics HTTP/1.1\r\n\0\xff\r\n\r\n"));
        Assert.StartsWith("HTTP/1.1 200", await RawHttpAsync(server.MetricsPort, "GET /metrics?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"));

        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
        await using var another = await TestClient.NamedAsync(server.TextPort, "another");
        Assert.Equal(2, (await Scrape.GetAsync(server.MetricsPort)).Value(Active, ("listener", "text")));
    }

    [Fact]
    public async Task The_endpoint_holds_at_most_16_connections_and_cuts_one_that_sends_nothing_within_the_bound()
    {
        await using var server = await ServerProcess.StartAsync("", "--metrics-port", "0");
        var idle = new List<Socket>();
        try
        {
            for (var i = 0; i < 16; i++) idle.Add(await ConnectAsync(server.MetricsPort));
            // Kestrel counts a connection from its accept; give it the sixteen before the seventeenth knocks.
            await Task.Delay(300);
            var started = Stopwatch.StartNew();
            Assert.Equal("", await RawHttpAsync(server.MetricsPort, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"));

            // An idle connection is closed by the server within the 5 s bound (plus Kestrel's one-second timer).
            var buffer = new byte[16];
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var read = await idle[0].ReceiveAsync(buffer, SocketFlags.None, wait.Token);
            Assert.True(read == 0 || Encoding.ASCII.GetString(buffer, 0, read).StartsWith("HTTP/1.1 408"));
            Assert.InRange(started.Elapsed, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(9));
        }
        finally
        {
            foreach (var socket in idle) socket.Dispose();
        }
        await Scrape.UntilAsync(server.MetricsPort, _ => true, "a scrape once the idle connections are gone");
    }

    [Fact]
    public async Task A_metrics_port_in_use_stops_the_server_with_one_line_naming_it_and_exit_code_2()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var taken = ((IPEndPoint)holder.LocalEndpoint).Port;

        var (exit, stdout, stderr) = await ServerProcess.RunToEndAsync(
            "--port", "0", "--binary-port", "0", "--metrics-port", taken.ToString());

        Assert.Equal(2, exit);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => l.StartsWith("actortcp:"));
        Assert.Contains("metrics-port", line);
        Assert.Contains($"127.0.0.1:{taken}", line);
        Assert.DoesNotContain("listening", stdout);
        Assert.DoesNotContain("Exception", stderr);
    }

    [Fact]
    public async Task The_listening_line_names_every_key_with_metrics_off_by_default()
    {
        await using var off = await ServerProcess.StartAsync();
        Assert.Matches(@"^listening text=127\.0\.0\.1:\d+ binary=127\.0\.0\.1:\d+ tls=off udp=off cluster=off metrics=off$", off.ListeningLine);
        await using var on = await ServerProcess.StartAsync("", "--metrics-port", "0");
        Assert.Matches(@"^listening text=127\.0\.0\.1:\d+ binary=127\.0\.0\.1:\d+ tls=off udp=off cluster=off metrics=127\.0\.0\.1:\d+$", on.ListeningLine);
    }

    [Fact]
    public async Task The_dashboard_and_the_alerts_query_only_series_the_server_serves()
    {
        var config = Path.Combine(RepositoryRoot(), "config");
        var queries = await File.ReadAllTextAsync(Path.Combine(config, "grafana-dashboard.json"))
            + await File.ReadAllTextAsync(Path.Combine(config, "prometheus-alerts.yml"));
        var names = Regex.Matches(queries, @"\b(actortcp|dotnet)_[a-z_]+").Select(m => m.Value).Distinct().ToList();
        Assert.True(names.Count > 10, "the dashboard and alerts name too few series: " + string.Join(' ', names));
        await using var server = await ServerProcess.StartAsync("", "--metrics-port", "0");
        await using (var client = await TestClient.NamedAsync(server.TextPort))
            await client.SendAsync("quit\n");
        var scrape = await Scrape.UntilAsync(server.MetricsPort, s => s.Value(DurationCount) == 1, "a closed connection");
        Assert.All(names, name => Assert.True(scrape.Has(name), $"the dashboard queries {name}, which /metrics does not serve"));
    }

    [Fact]
    public async Task Promtool_accepts_the_sample_scrape_config_and_alert_rules()
    {
        var config = Path.Combine(RepositoryRoot(), "config");
        var (exit, output) = await RunAsync("promtool", ["check", "config", Path.Combine(config, "prometheus.yml")], "");
        Assert.True(exit == 0, "promtool check config: " + output);
        (exit, output) = await RunAsync("promtool", ["check", "rules", Path.Combine(config, "prometheus-alerts.yml")], "");
        Assert.True(exit == 0, "promtool check rules: " + output);
    }

    internal static async Task<TestClient> BinaryNamedAsync(int port, string name)
    {
        var client = await TestClient.ConnectAsync(port);
        Assert.Equal(Replies.Welcome, await client.ReadFrameTextAsync());
        Assert.Equal(Replies.AskName, await client.ReadFrameTextAsync());
        await client.SendFrameAsync(name);
        Assert.Equal(Replies.Hello(name), await client.ReadFrameTextAsync());
        return client;
    }

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ActorTcp.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException("the repository root (ActorTcp.sln) is not above " + AppContext.BaseDirectory);
    }

    private static async Task<Socket> ConnectAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    /// <summary>Sends raw bytes and returns what comes back until the server closes or goes quiet ("" if it closed at once).</summary>
    private static async Task<string> RawHttpAsync(int port, string request)
    {
        using var socket = await ConnectAsync(port);
        try
        {
            await socket.SendAsync(Encoding.Latin1.GetBytes(request), SocketFlags.None);
        }
        catch (SocketException)
        {
            return "";
        }
        var received = new MemoryStream();
        var buffer = new byte[4096];
        using var quiet = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            while (true)
            {
                var n = await socket.ReceiveAsync(buffer, SocketFlags.None, quiet.Token);
                if (n == 0) break;
                received.Write(buffer, 0, n);
                if (Encoding.Latin1.GetString(received.ToArray()).Contains("\r\n\r\n")) break;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException) { }
        return Encoding.Latin1.GetString(received.ToArray());
    }

    /// <summary>Runs a tool with <paramref name="input"/> on its standard input; a missing tool fails the test.</summary>
    internal static async Task<(int Exit, string Output)> RunAsync(string tool, string[] args, string input)
    {
        var info = new ProcessStartInfo(tool)
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Assert.Fail($"{tool} is required (Debian package prometheus; .ci/run installs it): {e.Message}");
            throw;
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));
            return (process.ExitCode, await stdout + await stderr);
        }
    }
}
