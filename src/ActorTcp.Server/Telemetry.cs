// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using ActorTcp.Configuration;
using ActorTcp.Listening;
using ActorTcp.Observability;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace ActorTcp.Server;

/// <summary>
/// Where the <c>ActorTcp</c> meter (and the runtime's own <c>System.Runtime</c> meter) goes: an OpenTelemetry
/// MeterProvider with the Prometheus exporter served on <c>metrics-port</c>, and the OTLP exporter when the standard
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> variable is set. With neither, no provider exists and nothing collects.
/// </summary>
/// <remarks>
/// The endpoint is a Kestrel of its own, apart from the TCP listeners: port 0 and the real bound address, a cap on
/// connections, header and keep-alive timeouts, and a 400 for a malformed request come from Kestrel; the series
/// from OpenTelemetry's Prometheus exporter. docs/OPERATIONS.md says why these two.
/// </remarks>
internal sealed class Telemetry : IAsyncDisposable
{
    /// <summary>Scrapes served at once; more connections than this are closed by Kestrel at once.</summary>
    public const int MaxConcurrentRequests = 16;

    /// <summary>Each request: its headers within this, and its answer within this once they are read.</summary>
    public static readonly TimeSpan RequestBound = TimeSpan.FromSeconds(5);

    public const string ScrapePath = "/metrics";

    /// <summary>The runtime's built-in meter (.NET 9 and later): GC, thread pool, JIT, locks, CPU, memory.</summary>
    private const string RuntimeMeter = "System.Runtime";

    /// <summary>
    /// The runtime's gauges named <c>*.count</c>: Prometheus keeps the <c>_count</c> suffix for histograms and summaries,
    /// so <c>promtool check metrics</c> refuses them. They are published under these names instead.
    /// </summary>
    private static readonly Dictionary<string, string> RuntimeRenames = new(StringComparer.Ordinal)
    {
        ["dotnet.assembly.count"] = "dotnet.assemblies",
        ["dotnet.process.cpu.count"] = "dotnet.process.cpus",
        ["dotnet.timer.count"] = "dotnet.timers",
    };

    private readonly MeterProvider? _provider;
    private WebApplication? _endpoint;

    private Telemetry(MeterProvider? provider) => _provider = provider;

    /// <summary>True when the standard OTLP variables ask for an export.</summary>
    public static bool OtlpRequested =>
        !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT"))
        || !string.IsNullOrWhiteSpace(Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"));

    /// <summary>The provider the settings and the environment ask for, or none at all.</summary>
    public static Telemetry Create(ServerSettings settings, string version)
    {
        var otlp = OtlpRequested;
        if (settings.MetricsPort is null && !otlp) return new Telemetry(null);
        // A provider of its own, not the host's: it reads the OTEL_* variables from the environment, which the
        // host's configuration deliberately leaves out.
        var builder = Sdk.CreateMeterProviderBuilder()
            .ConfigureResource(resource => resource.AddService("actortcp", serviceVersion: version))
            .AddMeter(ServerMetrics.MeterName, RuntimeMeter)
            .AddView(instrument => instrument.Meter.Name == RuntimeMeter && RuntimeRenames.TryGetValue(instrument.Name, out var name)
                ? new MetricStreamConfiguration { Name = name }
                : null);
        if (settings.MetricsPort is not null)
            // No response cache: a scrape sees the counters as they are, as STATS does.
            builder.AddPrometheusExporter(options => options.ScrapeResponseCacheDurationMilliseconds = 0);
        if (otlp) builder.AddOtlpExporter();
        return new Telemetry(builder.Build());
    }

    /// <summary>
    /// Serves <c>GET /metrics</c> on <c>host:metrics-port</c>; returns the bound endpoint, or null when the port is off.
    /// Throws <see cref="BindFailedException"/> with one line naming the address when it cannot bind.
    /// </summary>
    public async Task<IPEndPoint?> StartEndpointAsync(ServerSettings settings, ILoggerFactory loggers)
    {
        if (settings.MetricsPort is not { } port || _provider is null) return null;
        var address = settings.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(settings.Host);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions { ApplicationName = "ActorTcp.Metrics" });
        // Kestrel logs through the server's Serilog; the host's own "failed to start" (a stack trace) is left out:
        // a port in use is reported in the one line below.
        builder.Logging.AddProvider(new ForwardTo(loggers)).AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = MaxConcurrentRequests;
            kestrel.Limits.MaxConcurrentUpgradedConnections = 0;
            kestrel.Limits.MaxRequestBodySize = 0;
            kestrel.Limits.RequestHeadersTimeout = RequestBound;
            kestrel.Limits.KeepAliveTimeout = RequestBound;
            kestrel.Listen(address, port, listen => listen.Protocols = HttpProtocols.Http1);
        });
        var app = builder.Build();
        app.Use(BoundEachRequest);
        app.UseOpenTelemetryPrometheusScrapingEndpoint(
            _provider, IsScrape, path: null!, configureBranchedPipeline: null!, optionsName: null!);
        app.Run(NotFound);
        try
        {
            await app.StartAsync();
        }
        catch (IOException e)
        {
            await app.DisposeAsync();
            var reason = e.InnerException?.Message ?? e.Message;
            throw new BindFailedException($"metrics-port: cannot listen on {address}:{port}: {reason}");
        }
        _endpoint = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new IPEndPoint(address, new Uri(bound).Port);
    }

    private static bool IsScrape(HttpContext context) =>
        context.Request.Path == ScrapePath && (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method));

    private static Task NotFound(HttpContext context)
    {
        context.Response.StatusCode = context.Request.Path == ScrapePath
            ? StatusCodes.Status405MethodNotAllowed
            : StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }

    /// <summary>A request still being answered after <see cref="RequestBound"/> (a client that stopped reading) is cut.</summary>
    private static async Task BoundEachRequest(HttpContext context, RequestDelegate next)
    {
        using var bound = new CancellationTokenSource(RequestBound);
        await using var cut = bound.Token.Register(static state => ((HttpContext)state!).Abort(), context);
        await next(context);
    }

    private sealed class ForwardTo(ILoggerFactory loggers) : ILoggerProvider
    {
        public ILogger CreateLogger(string categoryName) => loggers.CreateLogger(categoryName);

        public void Dispose() { }
    }

    public async ValueTask DisposeAsync()
    {
        if (_endpoint is not null)
        {
            await _endpoint.StopAsync();
            await _endpoint.DisposeAsync();
        }
        _provider?.Dispose();
    }
}
