// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using HdrHistogram;

namespace ActorTcp.LoadTest.Output;

/// <summary>The figures a run ends with, derived once from the merged result; printed and written as JSON.</summary>
internal sealed class RunReport
{
    public RunReport(LoadOptions options, NodeResult result, ServerStats? server, double rampSeconds, bool rampComplete)
    {
        Options = options;
        Result = result;
        Server = server;
        RampSeconds = rampSeconds;
        RampComplete = rampComplete;
        Ops = result.Ops.ToDictionary(kv => kv.Key, kv => OpSummary.From(kv.Value, result.WindowSeconds));
        Connect = OpSummary.From(new OpResult { Count = result.Connected, LatencyUs = result.ConnectUs }, 0);
    }

    public LoadOptions Options { get; }
    public NodeResult Result { get; }
    public ServerStats? Server { get; }
    public double RampSeconds { get; }
    public bool RampComplete { get; }
    public Dictionary<string, OpSummary> Ops { get; }
    public OpSummary Connect { get; }

    /// <summary>Each worker's own result, in the run's order (empty for a run in one process).</summary>
    public IReadOnlyList<(string Name, NodeResult Result)> Workers { get; init; } = [];

    /// <summary>Connections per second the ramp reached: every client up over the ramp's time (null without a ramp).</summary>
    public double? RampReached => !Options.MeasuresFromStart && RampSeconds > 0 ? Options.Clients / RampSeconds : null;

    /// <summary>The ramp was clearly slower than asked (under 90 %): the run says so, the generator or the server could not keep up.</summary>
    public bool RampSlow => RampReached is { } reached && reached < 0.9 * Options.Ramp;

    /// <summary>The ramp in words: its time, the rate it reached against the rate asked, and whether it fell short.</summary>
    public string RampLine =>
        $"{RampSeconds.ToString("F1", CultureInfo.InvariantCulture)} s, {RampReached.GetValueOrDefault().ToString("N0", CultureInfo.InvariantCulture)} connections/s of {Options.Ramp.ToString("N0", CultureInfo.InvariantCulture)} asked"
        + (RampSlow ? " (SLOWER THAN ASKED)" : "")
        + (RampComplete ? "" : " (INCOMPLETE: the window started before every client was up)");

    public double OpsPerSecond => Result.WindowSeconds > 0 ? Ops.Values.Sum(o => o.Count) / Result.WindowSeconds : 0;

    /// <summary>Generator CPU during the window, in % of one core (all processes).</summary>
    public double LoadgenCpuPercent => Result.WindowSeconds > 0 ? 100 * Result.CpuSecondsWindow / Result.WindowSeconds : 0;

    public double? ServerRssBytesPerConnection =>
        Server is null || Result.AliveAtWindowEnd == 0 || Options.MeasuresFromStart ? null : (Server.RssKbEnd - Server.RssKbStart) * 1024.0 / Result.AliveAtWindowEnd;
}

internal sealed record OpSummary
{
    public long Count { get; init; }
    public double PerSecond { get; init; }
    public double P50Ms { get; init; }
    public double P90Ms { get; init; }
    public double P99Ms { get; init; }
    public double P999Ms { get; init; }
    public double MaxMs { get; init; }

    public static OpSummary From(OpResult op, double seconds)
    {
        var h = op.LatencyUs.ToHistogram();
        double Ms(double percentile) => h.TotalCount == 0 ? 0 : h.GetValueAtPercentile(percentile) / 1000.0;
        return new OpSummary
        {
            Count = op.Count,
            PerSecond = seconds > 0 ? op.Count / seconds : 0,
            P50Ms = Ms(50),
            P90Ms = Ms(90),
            P99Ms = Ms(99),
            P999Ms = Ms(99.9),
            MaxMs = h.TotalCount == 0 ? 0 : h.GetMaxValue() / 1000.0,
        };
    }
}

internal static class ReportPrinter
{
    public static void Print(RunReport report, TextWriter output)
    {
        var o = report.Options;
        var r = report.Result;
        var c = CultureInfo.InvariantCulture;
        var w = new StringWriter(c);
        w.WriteLine();
        w.WriteLine($"scenario {o.Scenario.ToString().ToLowerInvariant()}, framing {o.Framing.ToString().ToLowerInvariant()}, target {o.Host}:{string.Join(',', o.Ports)}, {r.Clients:N0} clients in {r.Processes} process(es)");
        if (!o.MeasuresFromStart)
        {
            w.WriteLine($"ramp      {report.RampLine}");
        }
        w.WriteLine($"window    {r.WindowSeconds:F1} s");
        w.WriteLine($"clients   completed {r.ClientsCompleted:N0}, failed {r.ClientsFailed:N0}; named at the window's end {r.AliveAtWindowEnd:N0}, peak {r.PeakAlive:N0}");
        foreach (var (name, worker) in report.Workers)
        {
            w.WriteLine($"worker    {name}: {worker.Clients:N0} clients, completed {worker.ClientsCompleted:N0}, failed {worker.ClientsFailed:N0}, {worker.OpsTotal:N0} ops, {worker.Errors.Values.Sum():N0} errors");
        }
        w.WriteLine($"connects  {r.ConnectsStarted:N0} started, {r.Connected:N0} established{(r.CyclesFailed > 0 ? $", {r.CyclesFailed:N0} churn cycles failed" : "")}");
        if (o.Reconnect)
        {
            w.WriteLine($"reconnect {r.Reconnects:N0} connections lost and made again (not errors), {r.ReconnectAttemptsFailed:N0} attempts refused or timed out on the way");
        }
        w.WriteLine($"total     {report.OpsPerSecond:N0} ops/s in the window; {r.OpsTotal:N0} ops in the whole run");
        w.WriteLine();
        w.WriteLine($"{"op",-10} {"count",12} {"per s",10} {"p50 ms",9} {"p90 ms",9} {"p99 ms",9} {"p99.9 ms",9} {"max ms",9}");
        foreach (var (name, s) in report.Ops.OrderBy(kv => kv.Key).Append(new("handshake", report.Connect)))
        {
            var perSecond = name == "handshake" ? "(run)" : s.PerSecond.ToString("N0", c);
            w.WriteLine($"{name,-10} {s.Count,12:N0} {perSecond,10} {s.P50Ms,9:F2} {s.P90Ms,9:F2} {s.P99Ms,9:F2} {s.P999Ms,9:F2} {s.MaxMs,9:F2}");
        }
        w.WriteLine();
        w.WriteLine($"bytes     window: {r.BytesOutWindow:N0} sent, {r.BytesInWindow:N0} received ({MiB(r.BytesInWindow, r.WindowSeconds):F1} MiB/s in); run: {r.BytesOutTotal:N0} sent, {r.BytesInTotal:N0} received");
        w.WriteLine($"loadgen   CPU {report.LoadgenCpuPercent:F0} % of one core in the window ({r.CpuSecondsWindow:F1} s), {r.CpuSecondsTotal:F1} s in all; peak RSS {r.PeakRssKb / 1024.0:F0} MiB");
        if (report.Server is { } box)
        {
            var others = box.MachineBusyPercent - report.LoadgenCpuPercent - (report.Options.ServerPids.Count > 0 ? box.CpuPercent : 0);
            w.WriteLine($"machine   {box.MachineBusyPercent:F0} % busy of {Environment.ProcessorCount * 100} % in the window (kernel included); everything else but the generator{(report.Options.ServerPids.Count > 0 ? " and the server" : "")}: {Math.Max(0, others):F0} %");
        }
        if (report.Options.ServerPids.Count > 0 && report.Server is { } srv)
        {
            // Per-connection memory means something only while the clients hold their connections.
            var memory = o.MeasuresFromStart
                ? $"RSS {srv.RssKbStart / 1024.0:F1} -> {srv.RssKbEnd / 1024.0:F1} MiB"
                : $"RSS {srv.RssKbStart / 1024.0:F1} -> {srv.RssKbReady / 1024.0:F1} (ready) -> {srv.RssKbEnd / 1024.0:F1} MiB (window end), "
                  + (report.ServerRssBytesPerConnection is { } b ? $"{b:N0} B per named connection" : "n/a per connection");
            w.WriteLine($"server    {memory}; CPU {srv.CpuPercent:F1} % of one core in the window");
        }
        w.WriteLine();
        if (r.Errors.Count == 0)
        {
            w.WriteLine("errors    none");
        }
        else
        {
            w.WriteLine($"errors    {r.Errors.Values.Sum():N0}");
            foreach (var (kind, count) in r.Errors.OrderByDescending(kv => kv.Value))
            {
                w.WriteLine($"  {count,10:N0}  {kind}");
            }
            foreach (var sample in r.ErrorSamples.Take(10))
            {
                w.WriteLine($"  e.g. {sample}");
            }
        }
        output.Write(w.ToString());
        output.Flush();
    }

    private static double MiB(long bytes, double seconds) => seconds > 0 ? bytes / seconds / (1024 * 1024) : 0;
}

internal static class JsonReport
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static async Task WriteAsync(RunReport report, string path)
    {
        var o = report.Options;
        var document = new
        {
            scenario = o.Scenario.ToString().ToLowerInvariant(),
            framing = o.Framing.ToString().ToLowerInvariant(),
            host = o.Host.ToString(),
            ports = o.Ports,
            clients = o.Clients,
            // The processes that ran clients: this one, or every worker of the run's cluster.
            processes = report.Result.Processes,
            ramp_per_s = o.Ramp,
            duration_s = o.Duration.TotalSeconds,
            payload = o.Payload,
            pipeline = o.Pipeline,
            heartbeat_s = o.Heartbeat.TotalSeconds,
            source_ips = o.SourceIps,
            ramp_s = report.RampSeconds,
            ramp_complete = report.RampComplete,
            ramp_reached_per_s = report.RampReached,
            ramp_slow = report.RampSlow,
            window_s = report.Result.WindowSeconds,
            clients_completed = report.Result.ClientsCompleted,
            clients_failed = report.Result.ClientsFailed,
            alive_at_window_end = report.Result.AliveAtWindowEnd,
            peak_alive = report.Result.PeakAlive,
            ops_per_s = report.OpsPerSecond,
            ops_total = report.Result.OpsTotal,
            ops = report.Ops,
            handshake = report.Connect,
            bytes_in_window = report.Result.BytesInWindow,
            bytes_out_window = report.Result.BytesOutWindow,
            bytes_in_total = report.Result.BytesInTotal,
            bytes_out_total = report.Result.BytesOutTotal,
            reconnects = report.Result.Reconnects,
            reconnect_attempts_failed = report.Result.ReconnectAttemptsFailed,
            errors = report.Result.Errors,
            workers = report.Workers.Select(w => new
            {
                name = w.Name,
                clients = w.Result.Clients,
                clients_completed = w.Result.ClientsCompleted,
                clients_failed = w.Result.ClientsFailed,
                connected = w.Result.Connected,
                ops_total = w.Result.OpsTotal,
                errors = w.Result.Errors.Values.Sum(),
            }),
            error_samples = report.Result.ErrorSamples,
            loadgen = new
            {
                cpu_pct = report.LoadgenCpuPercent,
                cpu_s_window = report.Result.CpuSecondsWindow,
                cpu_s_total = report.Result.CpuSecondsTotal,
                peak_rss_kb = report.Result.PeakRssKb,
            },
            machine_busy_pct = report.Server?.MachineBusyPercent,
            server = report.Server is null || o.ServerPids.Count == 0 ? null : new
            {
                rss_kb_start = report.Server.RssKbStart,
                rss_kb_ready = report.Server.RssKbReady,
                rss_kb_end = report.Server.RssKbEnd,
                rss_bytes_per_conn = report.ServerRssBytesPerConnection,
                cpu_pct = report.Server.CpuPercent,
                cpu_s_window = report.Server.CpuSecondsWindowEnd - report.Server.CpuSecondsWindowStart,
            },
            latency_histograms_us = report.Result.Ops.ToDictionary(kv => kv.Key, kv => kv.Value.LatencyUs.Buckets),
        };
        await File.WriteAllTextAsync(path, JsonSerializer.Serialize(document, Json));
    }
}
