using System.Net;
using System.Text;
using ActorTcp.Configuration;
using ActorTcp.Observability;
using ActorTcp.Sessions;
using Akka.Configuration;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Tests;

public sealed class WireTraceSpecs
{
    private static ServerSettings Parse(string overrides)
    {
        var hocon = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "hocon.conf"));
        return ServerSettings.FromConfig(ConfigurationFactory.ParseString(overrides).WithFallback(ConfigurationFactory.ParseString(hocon)), 20_000);
    }

    [Fact]
    public void A_hexdump_shows_sixteen_bytes_a_line_with_their_text_beside_them()
    {
        var dump = WireTrace.Hexdump(Encoding.ASCII.GetBytes("Hello, ActorTcp!\r\nPING\n"));
        Assert.Equal(
            "00000000  48 65 6c 6c 6f 2c 20 41  63 74 6f 72 54 63 70 21  |Hello, ActorTcp!|\n" +
            "00000010  0d 0a 50 49 4e 47 0a                              |..PING.|",
            dump);
    }

    [Fact]
    public void Nobody_is_traced_by_default_and_a_session_outside_the_blocks_gets_no_tracer()
    {
        var defaults = Parse("");
        Assert.Empty(defaults.TraceAddresses);
        Assert.Equal(64 * 1024, defaults.TraceMaxBytes);
        var ticket = new SessionTicket(1, IPAddress.Loopback, 0);
        Assert.Null(WireTrace.For(defaults, ticket, new ListLogger()));

        var some = Parse("""actor-tcp.trace-addresses = ["10.0.0.0/8", "::1", "127.0.0.2"]""");
        Assert.Null(WireTrace.For(some, ticket, new ListLogger()));
        Assert.NotNull(WireTrace.For(some, new SessionTicket(2, IPAddress.Parse("10.9.8.7"), 0), new ListLogger()));
        Assert.NotNull(WireTrace.For(some, new SessionTicket(3, IPAddress.Parse("127.0.0.2").MapToIPv6(), 0), new ListLogger()));
        Assert.NotNull(WireTrace.For(some, new SessionTicket(4, IPAddress.IPv6Loopback, 0), new ListLogger()));
    }

    [Theory]
    [InlineData("actor-tcp.trace-addresses = [\"10.0.0.0/33\"]", "trace-addresses")]
    [InlineData("actor-tcp.trace-addresses = [\"example.org\"]", "trace-addresses")]
    [InlineData("actor-tcp.trace-max-bytes = 0", "trace-max-bytes")]
    [InlineData("actor-tcp.metrics-port = 70000", "metrics-port")]
    public void A_bad_trace_or_metrics_setting_is_refused_naming_its_key(string overrides, string key)
    {
        var e = Assert.Throws<SettingsException>(() => Parse(overrides));
        Assert.StartsWith(key + ":", e.Message);
    }

    [Fact]
    public void The_metrics_port_is_off_by_default_and_takes_a_port()
    {
        Assert.Null(Parse("").MetricsPort);
        Assert.Equal(9464, Parse("actor-tcp.metrics-port = 9464").MetricsPort);
        Assert.Equal(0, Parse("actor-tcp.metrics-port = 0").MetricsPort);
    }

    [Fact]
    public void A_trace_logs_reads_and_writes_at_Information_until_its_budget_is_spent()
    {
        var settings = Parse("""
            actor-tcp.trace-addresses = ["127.0.0.0/8"]
            actor-tcp.trace-max-bytes = 20
            """);
        var logger = new ListLogger();
        var trace = WireTrace.For(settings, new SessionTicket(5, IPAddress.Loopback, 0, ListenerKind.Binary), logger)!;
        trace.Received(Encoding.ASCII.GetBytes("ECHO abc\n"));
        trace.Sent(Encoding.ASCII.GetBytes("abc\nand a lot more than the budget\n"));
        trace.Received(Encoding.ASCII.GetBytes("never shown\n"));

        Assert.All(logger.Entries, e => Assert.Equal(LogLevel.Information, e.Level));
        var text = string.Join("\n", logger.Entries.Select(e => e.Message));
        Assert.Contains("|ECHO abc.|", text);
        Assert.Contains("|abc.and a l|", text);
        Assert.Contains("read 9 bytes", text);
        Assert.Contains("write 35 bytes (first 11 shown)", text);
        Assert.Contains("trace-max-bytes reached", text);
        Assert.DoesNotContain("never", text);
        Assert.Contains("binary", text);
    }

    private sealed class ListLogger : ILogger
    {
        public List<(LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Add((logLevel, formatter(state, exception)));
    }
}
