using ActorTcp.Configuration;
using Akka.Configuration;

namespace ActorTcp.Tests;

public sealed class SettingsSpecs
{
    private static ServerSettings Parse(string overrides, long limit = 20_000)
    {
        var hocon = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon.conf"));
        var config = ConfigurationFactory.ParseString(overrides).WithFallback(ConfigurationFactory.ParseString(hocon));
        return ServerSettings.FromConfig(config, limit);
    }

    [Fact]
    public void The_defaults_parse_with_the_documented_values()
    {
        var s = Parse("");
        Assert.Equal(("127.0.0.1", 6000, 6001), (s.Host, s.Port, s.BinaryPort));
        Assert.Equal((4096, 65536, 256 * 1024), (s.MaxLineBytes, s.MaxFrameBytes, s.MaxPendingWriteBytes));
        Assert.Equal((TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(1)), (s.IdleTimeout, s.HandshakeTimeout, s.HeartbeatTick));
        Assert.Equal((1000, 10_000, 1024, 0), (s.MaxDownloads, s.MaxListEntries, s.Backlog, s.MaxConnectionsPerIp));
        Assert.Equal("config/files", s.FilesRoot);
        Assert.False(s.CrlfReplies);
        Assert.Equal(65001, s.TextEncoding.CodePage);
    }

    [Fact]
    public void Auto_max_connections_leaves_max_downloads_and_a_reserve_out_of_the_descriptor_limit()
    {
        var s = Parse("");
        Assert.True(s.MaxConnectionsIsAuto);
        Assert.Equal(20_000 - 1000 - 500, s.MaxConnections);
        Assert.Equal(1024 - 10 - 256, Parse("actor-tcp.max-downloads = 10", limit: 1024).MaxConnections);
    }

    [Fact]
    public void A_max_connections_above_what_descriptors_allow_is_held_to_it()
    {
        var s = Parse("actor-tcp.max-connections = 50000");
        Assert.Equal(18_500, s.MaxConnections);
        Assert.Equal(50_000, s.MaxConnectionsRequested);
        Assert.Null(Parse("actor-tcp.max-connections = 10").MaxConnectionsRequested);
    }

    [Theory]
    [InlineData("actor-tcp.idle-timeout = banana", "idle-timeout")]
    [InlineData("actor-tcp.port = 70000", "port")]
    [InlineData("actor-tcp.binary-port = sometimes", "binary-port")]
    [InlineData("actor-tcp.max-line-bytes = 0", "max-line-bytes")]
    [InlineData("actor-tcp.max-connections = lots", "max-connections")]
    [InlineData("actor-tcp.reply-line-ending = cr", "reply-line-ending")]
    [InlineData("actor-tcp.text-encoding = utf-16", "text-encoding")]
    [InlineData("actor-tcp.host = example.org", "host")]
    [InlineData("actor-tcp.reuse-address = maybe", "reuse-address")]
    public void A_bad_value_is_refused_with_one_line_naming_its_key(string overrides, string key)
    {
        var e = Assert.Throws<SettingsException>(() => Parse(overrides));
        Assert.StartsWith(key + ":", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Binary_port_off_disables_the_binary_listener()
    {
        Assert.Null(Parse("actor-tcp.binary-port = off").BinaryPort);
    }
}
