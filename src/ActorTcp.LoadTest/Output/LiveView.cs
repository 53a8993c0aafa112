// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Running;
using Spectre.Console;

namespace ActorTcp.LoadTest.Output;

/// <summary>
/// The live table, redrawn twice a second: one row per worker (from its progress stream) and the totals, then the
/// error kinds of the run.
/// </summary>
internal sealed class LiveView(Coordinator run, LoadOptions options)
{
    private readonly Dictionary<string, (long Ops, TimeSpan At)> _last = [];

    public static bool ShouldRun(LoadOptions options) =>
        !options.NoLive && !Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive;

    public async Task<T> RunAsync<T>(Task<T> work)
    {
        await AnsiConsole.Live(Render()).AutoClear(false).StartAsync(async context =>
        {
            while (await Task.WhenAny(work, Task.Delay(500)) != work)
            {
                context.UpdateTarget(Render());
            }
            context.UpdateTarget(Render());
        });
        return await work;
    }

    private Table Render()
    {
        var nodes = run.Nodes;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"ActorTcp.LoadTest · {options.Scenario.ToString().ToLowerInvariant()} · {options.Framing.ToString().ToLowerInvariant()} · {options.Host}:{string.Join(',', options.Ports)}")
            .Caption($"{run.Phase}{(run.WindowElapsed is { } w ? $" (window {w.TotalSeconds:F0}/{options.Duration.TotalSeconds:F0}s)" : "")} · {run.Elapsed.TotalSeconds:F1}s")
            .AddColumn("worker").AddColumn("started").AddColumn("connected").AddColumn("named")
            .AddColumn("finished").AddColumn("ops/s").AddColumn("errors");
        var now = run.Elapsed;
        double total = 0;
        foreach (var node in nodes)
        {
            var rate = Rate(node.Name, node.Progress.Ops, now);
            total += rate;
            if (nodes.Count > 1)
            {
                AddRow(table, node.Lost is null ? Markup.Escape(node.Name) : $"[red]{Markup.Escape(node.Name)} (lost)[/]", node.Progress, rate);
            }
        }
        var p = run.Progress;
        AddRow(table, "[bold]total[/]", p, total);
        foreach (var (kind, count) in p.ErrorKinds.OrderByDescending(kv => kv.Value).Take(8))
        {
            table.AddRow("", "", "", "", "", "", $"[red]{count:N0}[/] {Markup.Escape(kind)}");
        }
        return table;
    }

    private double Rate(string name, long ops, TimeSpan now)
    {
        var (lastOps, lastAt) = _last.GetValueOrDefault(name);
        _last[name] = (ops, now);
        return (ops - lastOps) / Math.Max(0.001, (now - lastAt).TotalSeconds);
    }

    private static void AddRow(Table table, string name, Metrics.Progress p, double rate) =>
        table.AddRow(
            name,
            $"{p.ClientsStarted:N0}/{p.Clients:N0}",
            p.ConnectedNow.ToString("N0", CultureInfo.InvariantCulture),
            p.ReadyNow.ToString("N0", CultureInfo.InvariantCulture),
            p.ClientsFinished.ToString("N0", CultureInfo.InvariantCulture),
            rate.ToString("N0", CultureInfo.InvariantCulture),
            p.Errors == 0 ? "[green]0[/]" : $"[red]{p.Errors:N0}[/]");
}
