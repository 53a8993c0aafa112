using ActorTcp.Configuration;
using Akka.Configuration;

namespace ActorTcp.Tests;

public sealed class ClusterSettingsSpecs
{
    private static ServerSettings Parse(string overrides)
    {
        var hocon = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon.conf"));
        var config = ConfigurationFactory.ParseString(overrides).WithFallback(ConfigurationFactory.ParseString(hocon));
        return ServerSettings.FromConfig(config, 20_000);
    }

    private static string Refusal(string overrides) => Assert.Throws<SettingsException>(() => Parse(overrides)).Message;

    [Fact]
    public void By_default_there_is_no_cluster()
    {
        Assert.Null(Parse("").Cluster);
        // A wildcard listener host is fine for a server alone: only a cluster needs an address others can reach.
        Assert.Null(Parse("actor-tcp.host = \"0.0.0.0\"").Cluster);
    }

    [Fact]
    public void A_cluster_port_turns_it_on_with_the_listeners_host_and_the_documented_defaults()
    {
        var c = Parse("actor-tcp.cluster.port = 4053").Cluster!;
        Assert.Equal(("127.0.0.1", 4053), (c.Host, c.Port));
        Assert.Empty(c.SeedNodes);
        Assert.Equal(TimeSpan.FromSeconds(2), c.AskTimeout);
    }

    [Fact]
    public void Seeds_are_host_port_pairs_an_IPv6_host_in_brackets()
    {
        var c = Parse("""
            actor-tcp.cluster { port = 0, host = "10.0.0.5", seed-nodes = ["10.0.0.1:4053", "node-b.example:4054", "[::1]:4055"] }
            """).Cluster!;
        Assert.Equal("10.0.0.5", c.Host);
        Assert.Equal([new SeedNode("10.0.0.1", 4053), new SeedNode("node-b.example", 4054), new SeedNode("::1", 4055)], c.SeedNodes);
        Assert.Equal("[::1]:4055", c.SeedNodes[2].ToString());
    }

    [Theory]
    [InlineData("actor-tcp.cluster.port = 0\nactor-tcp.host = \"0.0.0.0\"", "cluster.host (taken from host): '0.0.0.0' is a wildcard")]
    [InlineData("actor-tcp.cluster { port = 0, host = \"::\" }", "cluster.host: '::' is a wildcard")]
    [InlineData("actor-tcp.cluster.port = 70000", "cluster.port: '70000' is neither off nor a port")]
    [InlineData("actor-tcp.cluster.seed-nodes = [\"10.0.0.1\"]", "cluster.seed-nodes: '10.0.0.1' is not host:port")]
    [InlineData("actor-tcp.cluster.seed-nodes = [\"10.0.0.1:0\"]", "cluster.seed-nodes: '10.0.0.1:0' is not host:port")]
    [InlineData("actor-tcp.cluster.ask-timeout = 0s", "cluster.ask-timeout: '0s' must be above zero")]
    [InlineData("actor-tcp.cluster.ask-timeout = soon", "cluster.ask-timeout: 'soon' is not a duration")]
    public void A_bad_cluster_value_is_refused_with_one_line_naming_the_key(string overrides, string start)
    {
        Assert.StartsWith(start, Refusal(overrides));
    }

    [Fact]
    public void Bad_seeds_are_refused_even_while_the_cluster_is_off()
    {
        Assert.StartsWith("cluster.seed-nodes:", Refusal("actor-tcp.cluster.seed-nodes = [\"nowhere\"]"));
    }
}
