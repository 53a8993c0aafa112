// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Running;
using Spectre.Console;

namespace ActorTcp.LoadTest.Output;

/// <summary>The live table: connected clients, requests/s and errors by kind, redrawn twice a second.</summary>
internal sealed class LiveView(Coordinator run, LoadOptions options)
{
    public static bool ShouldRun(LoadOptions options) =>
        !options.NoLive && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public async Task<T> RunAsync<T>(Task<T> work)
    {
        long lastOps = 0;
        var lastTime = TimeSpan.Zero;
        await AnsiConsole.Live(Render(0)).AutoClear(false).StartAsync(async context =>
        {
            while (await Task.WhenAny(work, Task.Delay(500)) != work)
            {
                var progress = run.Progress;
                var now = run.Elapsed;
                var rate = (progress.Ops - lastOps) / Math.Max(0.001, (now - lastTime).TotalSeconds);
                lastOps = progress.Ops;
                lastTime = now;
                context.UpdateTarget(Render(rate));
            }
            context.UpdateTarget(Render(0));
        });
        return await work;
    }

    private Table Render(double rate)
    {
        var p = run.Progress;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"ActorTcp.LoadTest · {options.Scenario.ToString().ToLowerInvariant()} · {options.Framing.ToString().ToLowerInvariant()} · {options.Host}:{string.Join(',', options.Ports)}")
            .AddColumn("phase").AddColumn("elapsed").AddColumn("started").AddColumn("connected").AddColumn("named")
            .AddColumn("finished").AddColumn("ops/s").AddColumn("errors");
        var window = run.WindowElapsed is { } w ? $" (window {w.TotalSeconds:F0}/{options.Duration.TotalSeconds:F0}s)" : "";
        table.AddRow(
            run.Phase + window,
            $"{run.Elapsed.TotalSeconds:F1}s",
            $"{p.ClientsStarted:N0}/{p.Clients:N0}",
            p.ConnectedNow.ToString("N0", CultureInfo.InvariantCulture),
            p.ReadyNow.ToString("N0", CultureInfo.InvariantCulture),
            p.ClientsFinished.ToString("N0", CultureInfo.InvariantCulture),
            rate.ToString("N0", CultureInfo.InvariantCulture),
            p.Errors == 0 ? "[green]0[/]" : $"[red]{p.Errors:N0}[/]");
        foreach (var (kind, count) in p.ErrorKinds.OrderByDescending(kv => kv.Value).Take(8))
        {
            table.AddRow("", "", "", "", "", "", "", $"[red]{count:N0}[/] {Markup.Escape(kind)}");
        }
        return table;
    }
}
