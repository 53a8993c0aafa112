using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;

namespace ActorTcp.IntegrationTests;

/// <summary>OTLP pushes and the wire trace, seen from outside a real server process.</summary>
public sealed class TelemetryExportTests
{
    [Fact]
    public async Task With_OTEL_EXPORTER_OTLP_ENDPOINT_set_metric_exports_arrive_at_v1_metrics_holding_our_series()
    {
        var exports = new List<(string Path, string? ContentType, byte[] Body)>();
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var collector = await StartCollectorAsync(async context =>
        {
            var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            lock (exports)
            {
                exports.Add((context.Request.Path, context.Request.ContentType, body.ToArray()));
                // The second export of our series: the first can be collected while the server is still creating its
                // instruments, one after the other, and hold only those made so far.
                if (exports.Count(e => Contains(e.Body, "actortcp.active_connections")) >= 2) arrived.TrySetResult();
            }
            context.Response.ContentType = "application/x-protobuf";
        });
        // The bound address, port included, as Kestrel reports it.
        var endpoint = collector.Urls.First();

        await using var server = await ServerProcess.StartWithEnvironmentAsync(new Dictionary<string, string>
        {
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint,
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
            ["OTEL_METRIC_EXPORT_INTERVAL"] = "300",
        });
        await using var client = await TestClient.NamedAsync(server.TextPort);
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Metrics are pushed; the Prometheus endpoint stays off unless asked for.
        Assert.EndsWith("metrics=off", server.ListeningLine);
        lock (exports)
        {
            var export = exports.Last(e => Contains(e.Body, "actortcp.active_connections"));
            Assert.Equal("/v1/metrics", export.Path);
            Assert.Equal("application/x-protobuf", export.ContentType);
            foreach (var name in new[] { "ActorTcp", "actortcp.accepted_connections", "actortcp.closed_connections", "{connection}", "listener", "text", "binary" })
                Assert.True(Contains(export.Body, name), $"the export holds no '{name}'");
        }
    }

    [Fact]
    public async Task A_traced_client_gets_its_bytes_logged_as_a_hexdump_and_an_untraced_one_beside_it_does_not()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp.trace-max-bytes = 200", "--trace", "127.0.0.2");
        var traced = await TestClient.ConnectAsync(server.TextPort, IPAddress.Parse("127.0.0.2"));
        var untraced = await TestClient.ConnectAsync(server.TextPort, IPAddress.Loopback);
        await using (traced)
        await using (untraced)
        {
            foreach (var (client, name, word) in new[] { (traced, "seen", "visible"), (untraced, "unseen", "hidden!") })
            {
                Assert.Equal(["Welcome!", "What's your name?"], await client.ReadLinesAsync(2));
                await client.SendAsync($"{name}\n");
                Assert.Equal($"Hello {name}!", await client.ReadLineAsync());
                await client.SendAsync($"ECHO {word}\n");
                Assert.Equal(word, await client.ReadLineAsync());
            }
            // The trace's budget runs out; the client is served as before.
            await traced.SendAsync($"ECHO {new string('x', 300)}\n");
            Assert.Equal(new string('x', 300), await traced.ReadLineAsync());
            await traced.SendAsync("ECHO after the budget\n");
            Assert.Equal("after the budget", await traced.ReadLineAsync());
        }

        var deadline = DateTime.UtcNow + TestClient.Timeout;
        while (!server.Log.Contains("trace-max-bytes reached") && DateTime.UtcNow < deadline) await Task.Delay(20);
        var log = server.Log;
        Assert.Contains("Tracing connection", log);
        Assert.Contains("45 43 48 4f 20 76 69 73  69 62 6c 65 0a", log);  // ECHO visible\n
        Assert.Contains("|ECHO visible.|", log);
        Assert.Contains("|Welcome!.What's |", log);
        Assert.Contains("trace-max-bytes reached", log);
        Assert.DoesNotContain("unseen", log);
        Assert.DoesNotContain("hidden!", log);
        Assert.DoesNotContain("after the budget", log);
        Assert.Contains(" INF ", log);
    }

    [Fact]
    public async Task A_GET_over_the_text_listener_is_sent_by_the_kernel_and_traced_as_a_count_of_file_bytes()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp.trace-max-bytes = 100000", "--trace", "127.0.0.2");
        var expected = await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "config", "files", "welcome.txt"));
        await using var client = await TestClient.ConnectAsync(server.TextPort, IPAddress.Parse("127.0.0.2"));
        Assert.Equal(["Welcome!", "What's your name?"], await client.ReadLinesAsync(2));
        await client.SendAsync("reader\n");
        Assert.Equal("Hello reader!", await client.ReadLineAsync());
        await client.SendAsync("GET welcome.txt\n");
        Assert.Equal($"OK {expected.Length}", await client.ReadLineAsync());
        Assert.Equal(expected, await client.ReadBytesAsync(expected.Length));
        await client.SendAsync("ECHO after\n");
        Assert.Equal("after", await client.ReadLineAsync());

        var deadline = DateTime.UtcNow + TestClient.Timeout;
        while (!server.Log.Contains("|after.|") && DateTime.UtcNow < deadline) await Task.Delay(20);
        var log = server.Log;
        // The file's bytes never passed through the server: the trace can only count them, it has none to show.
        Assert.Contains($"write {expected.Length} file bytes (sent by the kernel, not shown)", log);
        Assert.DoesNotContain(Encoding.UTF8.GetString(expected[..16]), log);
        Assert.Contains("|after.|", log);
    }

    private static bool Contains(byte[] body, string text) => body.AsSpan().IndexOf(Encoding.UTF8.GetBytes(text)) >= 0;

    /// <summary>A small OTLP/HTTP receiver on 127.0.0.1, port 0.</summary>
    private static async Task<WebApplication> StartCollectorAsync(RequestDelegate handle)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.Run(handle);
        await app.StartAsync();
        return app;
    }
}
