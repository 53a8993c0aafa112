using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>
/// The cluster tests start several server processes each; they run alone, after the other tests, so that the failure
/// detector's timing is not at the mercy of a machine busy with the rest of the suite.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClusterCollection
{
    public const string Name = "cluster";
}

/// <summary>Several server processes on loopback as one cluster (docs/PROTOCOL.md, Cluster mode).</summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(1);

    [Fact]
    public async Task WHO_on_one_node_lists_the_names_of_all_three_sorted_with_a_name_used_twice_listed_twice()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await using var anna = await TestClient.NamedAsync(cluster[0].TextPort, "anna");
        await using var neo = await TestClient.NamedAsync(cluster[1].TextPort, "neo");
        await using var neoAgain = await TestClient.NamedAsync(cluster[2].TextPort, "neo");
        await using var zoe = await TestClient.NamedAsync(cluster[2].TextPort, "Zoe");

        Assert.Equal(("OK 4", "Zoe,anna,neo,neo"), await WhoAsync(anna));
        Assert.Equal(("OK 4", "Zoe,anna,neo,neo"), await WhoAsync(zoe));
    }

    [Fact]
    public async Task NODES_shows_three_up_lines_sorted_by_address_with_each_node_own_count_and_STATS_sums_them()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await using var a = await TestClient.NamedAsync(cluster[0].TextPort, "a");
        await using var b = await TestClient.NamedAsync(cluster[2].TextPort, "b");
        // A client still in the name dialog counts as a connection too.
        await using var unnamed = await TestClient.ConnectAsync(cluster[2].TextPort);
        Assert.Equal(["Welcome!", "What's your name?"], await unnamed.ReadLinesAsync(2));

        var expected = new[] { (cluster[0], 1), (cluster[1], 0), (cluster[2], 2) }
            .Select(n => $"{n.Item1.ClusterAddress} up {n.Item2}")
            .OrderBy(line => line, StringComparer.Ordinal)
            .ToArray();
        Assert.Equal(expected, await NodesAsync(a));

        var stats = await a.StatsAsync();
        Assert.Equal(cluster[0].ClusterAddress, stats["node"]);
        Assert.Equal("3", stats["members"]);
        Assert.Equal("3", stats["cluster_connections"]);
        Assert.Equal("3", stats["cluster_answered"]);
        Assert.Equal("1", stats["connections"]);
    }

    [Fact]
    public async Task A_node_given_SIGTERM_tells_its_clients_exits_0_and_is_gone_from_the_others_within_10_s_while_their_clients_go_on()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await using var a = await TestClient.NamedAsync(cluster[0].TextPort, "a");
        await using var b = await TestClient.NamedAsync(cluster[1].TextPort, "b");
        await using var leaver = await TestClient.NamedAsync(cluster[2].TextPort, "leaver");
        Assert.Equal(("OK 3", "a,b,leaver"), await WhoAsync(a));

        var exit = cluster[2].TerminateAsync(within: TimeSpan.FromSeconds(40));
        Assert.Equal("ERR server shutting down\n", Encoding.UTF8.GetString(await leaver.ReadToEndAsync()));
        Assert.Equal(0, await exit);
        var sinceExit = Stopwatch.StartNew();

        var gone = cluster[2].ClusterAddress!;
        foreach (var client in new[] { a, b })
        {
            await Eventually(async () =>
            {
                var nodes = await NodesAsync(client);
                return nodes.Length == 2 && !nodes.Any(line => line.StartsWith(gone + " ", StringComparison.Ordinal))
                    && await WhoAsync(client) == ("OK 2", "a,b");
            }, TimeSpan.FromSeconds(10) - sinceExit.Elapsed, $"the others forget {gone}", cluster);
        }

        await a.SendAsync("PING\n");
        Assert.Equal("PONG", await a.ReadLineAsync());
        await b.SendAsync("PING\n");
        Assert.Equal("PONG", await b.ReadLineAsync());
    }

    [Fact]
    public async Task After_a_SIGKILL_WHO_is_never_slower_than_ask_timeout_plus_1_s_and_is_complete_again_once_the_node_is_removed()
    {
        await using var cluster = await TestCluster.StartAsync(3);
        await using var a = await TestClient.NamedAsync(cluster[0].TextPort, "a");
        await using var b = await TestClient.NamedAsync(cluster[1].TextPort, "b");
        await using var victim = await TestClient.NamedAsync(cluster[2].TextPort, "victim");
        Assert.Equal(("OK 3", "a,b,victim"), await WhoAsync(a));

        await cluster[2].KillAsync();
        var dead = cluster[2].ClusterAddress!;
        var sawPartial = false;
        var sawUnknownCount = false;
        var since = Stopwatch.StartNew();
        while (true)
        {
            var clock = Stopwatch.StartNew();
            var who = await WhoAsync(a);
            Assert.True(clock.Elapsed < AskTimeout + TimeSpan.FromSeconds(1), $"WHO took {clock.Elapsed}");
            sawPartial |= who.Header.EndsWith(" partial", StringComparison.Ordinal);

            clock.Restart();
            var nodes = await NodesAsync(a);
            Assert.True(clock.Elapsed < AskTimeout + TimeSpan.FromSeconds(1), $"NODES took {clock.Elapsed}");
            sawUnknownCount |= nodes.Contains($"{dead} unreachable ?") || nodes.Contains($"{dead} up ?");

            if (who == ("OK 2", "a,b") && nodes.Length == 2) break;
            Assert.True(since.Elapsed < TimeSpan.FromSeconds(40),
                $"WHO is still {who.Header} and NODES {string.Join(" | ", nodes)} after {since.Elapsed}\n{cluster.Logs}");
        }
        Assert.True(sawPartial, "WHO never said partial while the killed node was a member");
        Assert.True(sawUnknownCount, "NODES never showed ? for the killed node");

        await b.SendAsync("PING\n");
        Assert.Equal("PONG", await b.ReadLineAsync());
    }

    [Fact]
    public async Task Two_nodes_bound_to_one_text_port_both_receive_clients()
    {
        await using var cluster = await TestCluster.StartAsync(2, sharePort: true);
        Assert.Equal(cluster[0].TextPort, cluster[1].TextPort);
        var clients = new List<TestClient>();
        try
        {
            for (var i = 0; i < 32; i++) clients.Add(await TestClient.NamedAsync(cluster[0].TextPort, "c" + i));
            var counts = (await NodesAsync(clients[0]))
                .Select(line => long.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture))
                .ToArray();
            Assert.Equal(2, counts.Length);
            Assert.Equal(32, counts.Sum());
            Assert.All(counts, count => Assert.True(count > 0, $"one node got no client: {string.Join(", ", counts)}"));
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_node_whose_seed_never_answers_serves_its_clients_and_lists_itself_alone()
    {
        var silentSeed = FreePort();
        await using var node = await ServerProcess.StartAsync("", "--cluster-port", "0", "--seed", $"127.0.0.1:{silentSeed}");
        await using var client = await TestClient.NamedAsync(node.TextPort, "alone");
        var nodes = await NodesAsync(client);
        Assert.Single(nodes);
        Assert.Equal($"{node.ClusterAddress} joining 1", nodes[0]);
        Assert.Equal(("OK 1", "alone"), await WhoAsync(client));
    }

    [Fact]
    public async Task Without_a_cluster_port_there_is_no_cluster_listener_and_NODES_and_STATS_say_standalone()
    {
        await using var server = await ServerProcess.StartAsync();
        Assert.Contains(" cluster=off", server.ListeningLine);
        Assert.Null(server.ClusterAddress);
        Assert.Equal(new[] { server.TextPort, server.BinaryPort }.Order(), ListeningPorts(server.Pid).Order());

        await using var client = await TestClient.NamedAsync(server.TextPort, "solo");
        Assert.Equal(["standalone up 1"], await NodesAsync(client));
        var stats = await client.StatsAsync();
        Assert.Equal("standalone", stats["node"]);
        Assert.Equal("1", stats["members"]);
        Assert.Equal("1", stats["cluster_connections"]);
        Assert.Equal("1", stats["cluster_answered"]);
    }

    [Fact]
    public async Task A_wildcard_cluster_host_is_refused_with_one_line_and_exit_2()
    {
        var (exit, _, stderr) = await ServerProcess.RunToEndAsync("--host", "0.0.0.0", "--port", "0", "--binary-port", "off", "--cluster-port", "0");
        Assert.Equal(2, exit);
        Assert.StartsWith("actortcp: cluster.host", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Fact]
    public async Task A_cluster_port_in_use_stops_the_server_with_one_line_naming_it_and_exit_2()
    {
        using var holder = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        holder.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        holder.Listen();
        var port = ((IPEndPoint)holder.LocalEndPoint!).Port;

        var (exit, stdout, stderr) = await ServerProcess.RunToEndAsync("--port", "0", "--binary-port", "off", "--cluster-port", port.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(2, exit);
        Assert.DoesNotContain("listening", stdout);
        Assert.StartsWith($"actortcp: cluster.port: cannot bind 127.0.0.1:{port}", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    /// <summary>WHO's first line, and its names joined with commas.</summary>
    [Fact]
    public async Task A_udp_heartbeat_sent_to_another_node_keeps_the_session_on_its_own_node_alive()
    {
        await using var cluster = await TestCluster.StartAsync(2, hocon: "actor-tcp { idle-timeout = 2s, heartbeat-tick = 100ms }",
            extra: ["--udp-port", "0"]);
        await using var client = await TestClient.NamedAsync(cluster[0].TextPort, "roamer");
        await client.SendAsync("KEY\n");
        var key = (await client.ReadLineAsync())![3..];

        // Every heartbeat goes to the other node's UDP port: it passes them to node 0, which holds the session.
        using var udp = new System.Net.Sockets.UdpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse("127.0.0.40"), 0));
        var other = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, cluster[1].UdpPort);
        var silent = Stopwatch.StartNew();
        while (silent.Elapsed < TimeSpan.FromSeconds(3.5))
        {
            await udp.SendAsync(System.Text.Encoding.ASCII.GetBytes("HEARTBEAT " + key), other);
            await Task.Delay(300);
        }
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
        Assert.Equal("ERR idle timeout", await client.ReadLineAsync());
    }

    private static async Task<(string Header, string Names)> WhoAsync(TestClient client)
    {
        await client.SendAsync("WHO\n");
        var header = await client.ReadLineAsync() ?? throw new InvalidOperationException("closed");
        var count = int.Parse(header.Split(' ')[1], CultureInfo.InvariantCulture);
        return (header, string.Join(",", await client.ReadLinesAsync(count)));
    }

    private static async Task<string[]> NodesAsync(TestClient client)
    {
        await client.SendAsync("NODES\n");
        var header = await client.ReadLineAsync() ?? throw new InvalidOperationException("closed");
        Assert.StartsWith("OK ", header);
        return (await client.ReadLinesAsync(int.Parse(header[3..], CultureInfo.InvariantCulture))).ToArray();
    }

    private static async Task Eventually(Func<Task<bool>> condition, TimeSpan within, string what, TestCluster cluster)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > within) Assert.Fail($"not within {within}: {what}\n{cluster.Logs}");
            await Task.Delay(200);
        }
    }

    private static int FreePort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>The TCP ports a process listens on, from /proc: its socket inodes matched with the kernel's listen table.</summary>
    private static List<int> ListeningPorts(int pid)
    {
        var inodes = new HashSet<string>();
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            var target = new FileInfo(fd).LinkTarget;
            if (target is not null && target.StartsWith("socket:[", StringComparison.Ordinal)) inodes.Add(target[8..^1]);
        }
        var ports = new List<int>();
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            foreach (var row in File.ReadLines(table).Skip(1))
            {
                var cols = row.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                // cols: sl local remote state ... inode (column 9); state 0A is LISTEN.
                if (cols[3] == "0A" && inodes.Contains(cols[9]))
                    ports.Add(int.Parse(cols[1][(cols[1].IndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            }
        }
        return ports;
    }
}

/// <summary>
/// N server processes on loopback forming one cluster: the first forms it on a free cluster port, the others give it as
/// their seed. The failure detector and the split-brain resolver are shortened (through the overlay's akka section) so
/// that a killed node is removed in seconds rather than Akka's default of about half a minute.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    public const string FastFailover = """
        actor-tcp.cluster.ask-timeout = 1s
        akka.cluster.split-brain-resolver.stable-after = 2s
        akka.cluster.failure-detector.heartbeat-interval = 500ms
        akka.cluster.failure-detector.acceptable-heartbeat-pause = 3s
        """;

    private readonly List<ServerProcess> _nodes = new();

    public ServerProcess this[int index] => _nodes[index];

    public string Logs => string.Join("\n", _nodes.Select((n, i) => $"--- node {i} ({n.ClusterAddress}) ---\n{n.Log}"));

    /// <param name="sharePort">The later nodes bind the first one's text port (SO_REUSEPORT) instead of their own.</param>
    /// <param name="hocon">More settings for every node, layered over the fast failover ones.</param>
    /// <param name="extra">More flags for every node.</param>
    public static async Task<TestCluster> StartAsync(int count, bool sharePort = false, string hocon = "", params string[] extra)
    {
        var cluster = new TestCluster();
        try
        {
            var settings = FastFailover + "\n" + hocon;
            var first = await ServerProcess.StartAsync(settings, ["--cluster-port", "0", .. extra]);
            cluster._nodes.Add(first);
            var flags = new List<string> { "--cluster-port", "0", "--seed", first.ClusterAddress! };
            flags.AddRange(extra);
            if (sharePort) flags.AddRange(["--port", first.TextPort.ToString(CultureInfo.InvariantCulture)]);
            var rest = Enumerable.Range(1, count - 1).Select(_ => ServerProcess.StartAsync(settings, flags.ToArray())).ToList();
            foreach (var node in rest) cluster._nodes.Add(await node);
            await cluster.WaitUntilAllUpAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Every node lists every node as up: the cluster has formed as each of them sees it.</summary>
    private async Task WaitUntilAllUpAsync()
    {
        var clock = Stopwatch.StartNew();
        foreach (var node in _nodes)
        {
            await using var client = await TestClient.ConnectAsync(node.TextPort);
            await client.ReadLinesAsync(2);
            await client.SendAsync("ok\n");
            await client.ReadLineAsync();
            while (true)
            {
                await client.SendAsync("NODES\n");
                var header = await client.ReadLineAsync();
                var lines = await client.ReadLinesAsync(int.Parse(header![3..], CultureInfo.InvariantCulture));
                if (lines.Count == _nodes.Count && lines.All(line => line.Contains(" up ", StringComparison.Ordinal))) break;
                if (clock.Elapsed > TimeSpan.FromSeconds(30))
                    throw new TimeoutException($"the cluster did not form: {string.Join(" | ", lines)}\n{Logs}");
                await Task.Delay(200);
            }
            // Once the server's FIN has arrived this session is over and counted closed, so no test sees it.
            await client.SendAsync("QUIT\n");
            await client.ReadToEndAsync();
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in _nodes) await node.DisposeAsync();
    }
}
