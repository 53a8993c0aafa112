// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using ActorTcp.Configuration;
using ActorTcp.Files;
using System.Net.Security;
using ActorTcp.Listening;
using ActorTcp.Transport;
using ActorTcp.Server;
using Akka.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

return await ServerProgram.RunAsync(args);

namespace ActorTcp.Server
{
    internal static class ServerProgram
    {
        private const int UsageError = 2;

        public static async Task<int> RunAsync(string[] args)
        {
            ServerOptions options;
            Config config;
            ServerSettings settings;
            FileStore store;
            SslStreamCertificateContext? tls;
            try
            {
                options = ServerOptions.Parse(args);
                if (options.Help)
                {
                    Console.WriteLine(ServerOptions.Usage);
                    return 0;
                }
                if (options.Version)
                {
                    Console.WriteLine($"ActorTcp {ActorTcpHosting.Version}");
                    return 0;
                }
                config = LoadConfig(options);
                settings = ServerSettings.FromConfig(config);
                store = OpenFiles(settings.FilesRoot);
                tls = settings.TlsPort is null ? null : TlsCertificates.Load(settings.TlsCertificate!, settings.TlsKey!);
                if (settings.Cluster is { } cluster) ClusterPort.EnsureFree(cluster);
            }
            catch (Exception e) when (e is ArgumentException or SettingsException or ConfigurationException or IOException)
            {
                await Console.Error.WriteLineAsync($"actortcp: {e.Message}");
                return UsageError;
            }

            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
            {
                DisableDefaults = true,
                ContentRootPath = Directory.GetCurrentDirectory(),
            });
            builder.Configuration.AddJsonFile(FindFile(Path.Combine("config", "appsettings.json")) ?? "appsettings.json", optional: true);
            try
            {
                ConfigureLogging(builder);
            }
            catch (SettingsException e)
            {
                await Console.Error.WriteLineAsync($"actortcp: {e.Message}");
                return UsageError;
            }
            // Long enough for the drain: transfers may finish up to drain-timeout after SIGTERM.
            // A cluster node also leaves (cluster-leave and cluster-exiting, 10 s each at most) after the drain.
            var leave = settings.Cluster is null ? TimeSpan.Zero : TimeSpan.FromSeconds(25);
            builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.DrainTimeout + TimeSpan.FromSeconds(15) + leave);
            builder.Services.AddActorTcp(config, settings, store, tls);

            using var host = builder.Build();
            await using var telemetry = Telemetry.Create(settings, ActorTcpHosting.Version);
            await host.StartAsync();
            var status = host.Services.GetRequiredService<BindingStatus>();
            try
            {
                var bound = await status.Bound.WaitAsync(TimeSpan.FromSeconds(30));
                var metrics = await telemetry.StartEndpointAsync(settings, host.Services.GetRequiredService<ILoggerFactory>());
                Console.Out.WriteLine(ListeningLine(bound, ClusterPort.Describe(host.Services, settings), metrics));
                Console.Out.Flush();
            }
            catch (Exception e) when (e is BindFailedException or TimeoutException)
            {
                await Console.Error.WriteLineAsync($"actortcp: {e.Message}");
                await host.StopAsync();
                await Log.CloseAndFlushAsync();
                return UsageError;
            }

            await host.WaitForShutdownAsync();
            await Log.CloseAndFlushAsync();
            return ClusterPort.ExitCode(host.Services);
        }

        /// <summary>
        /// <c>listening text=.. binary=.. tls=.. udp=.. cluster=.. metrics=..</c>: every key always present, <c>off</c> for
        /// what is not served, so that scripts can look keys up by name.
        /// </summary>
        internal static string ListeningLine(BoundEndpoints bound, string cluster, System.Net.IPEndPoint? metrics) =>
            $"listening text={Endpoint(bound.Text)} binary={Endpoint(bound.Binary)} tls={Endpoint(bound.Tls)} udp={Endpoint(bound.Udp)} cluster={cluster} metrics={Endpoint(metrics)}";

        private static string Endpoint(System.Net.IPEndPoint? endpoint) => endpoint is null ? "off" : $"{endpoint.Address}:{endpoint.Port}";

        /// <summary>
        /// Serilog from config/appsettings.json's <c>Serilog</c> section. <c>"LogFormat": "json"</c> there writes compact JSON
        /// lines (one event per line, for log shippers) to standard error instead of the section's sinks, with its levels.
        /// </summary>
        private static void ConfigureLogging(HostApplicationBuilder builder)
        {
            var format = builder.Configuration["LogFormat"] ?? "text";
            var json = format.Equals("json", StringComparison.OrdinalIgnoreCase);
            if (!json && !format.Equals("text", StringComparison.OrdinalIgnoreCase))
                throw new SettingsException($"LogFormat: '{format}' in config/appsettings.json is neither text nor json");
            IConfiguration serilog = builder.Configuration;
            if (json)
                serilog = new ConfigurationBuilder()
                    .AddInMemoryCollection(builder.Configuration.AsEnumerable()
                        .Where(entry => !entry.Key.StartsWith("Serilog:WriteTo", StringComparison.OrdinalIgnoreCase)))
                    .Build();
            builder.Services.AddSerilog((_, logger) =>
            {
                logger.ReadFrom.Configuration(serilog);
                if (json) logger.WriteTo.Console(new CompactJsonFormatter(), standardErrorFromLevel: LogEventLevel.Verbose);
            });
        }

        /// <summary>hocon.conf (working directory first, else beside the executable), the --config overlay, then the flags.</summary>
        private static Config LoadConfig(ServerOptions options)
        {
            var defaultsPath = FindFile("hocon.conf")
                ?? throw new IOException("hocon.conf not found in the working directory or beside the executable");
            var config = ConfigurationFactory.ParseString(File.ReadAllText(defaultsPath));
            if (options.ConfigFile is not null)
            {
                if (!File.Exists(options.ConfigFile)) throw new IOException($"--config: '{options.ConfigFile}' not found");
                config = ConfigurationFactory.ParseString(File.ReadAllText(options.ConfigFile)).WithFallback(config);
            }
            if (options.Overrides.Count > 0)
                config = ConfigurationFactory.ParseString(string.Join("\n", options.Overrides)).WithFallback(config);
            return config;
        }

        private static FileStore OpenFiles(string root)
        {
            try
            {
                return new FileStore(root);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new IOException($"files-root: {e.Message}");
            }
        }

        private static string? FindFile(string relative)
        {
            var here = Path.Combine(Directory.GetCurrentDirectory(), relative);
            if (File.Exists(here)) return here;
            var beside = Path.Combine(AppContext.BaseDirectory, relative);
            return File.Exists(beside) ? beside : null;
        }
    }
}
