// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;
using System.Net;
using System.Text;
using ActorTcp.LoadTest.Metrics;
using HdrHistogram;

namespace ActorTcp.LoadTest.Output;

/// <summary>The run as one self-contained HTML page: its totals and its per-second series as tables.</summary>
internal static class HtmlReport
{
    public static async Task WriteAsync(string path, RunReport report, Timeline timeline, HistogramBase latencyUs)
    {
        var c = CultureInfo.InvariantCulture;
        var html = new StringBuilder();
        html.Append("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>ActorTcp.LoadTest</title></head><body>");
        html.Append(c, $"<h1>ActorTcp.LoadTest: {report.Result.Clients:N0} clients in {report.Result.Processes} process(es)</h1>");
        html.Append(c, $"<p>{report.OpsPerSecond:N0} ops/s in a {report.Result.WindowSeconds:F1} s window; errors {report.Result.Errors.Values.Sum():N0}; ");
        html.Append(c, $"latency p50 {latencyUs.GetValueAtPercentile(50) / 1000.0:F2} ms, p99 {latencyUs.GetValueAtPercentile(99) / 1000.0:F2} ms</p>");
        html.Append("<table><tr><th>second</th><th>workers</th><th>requests</th><th>errors</th><th>connections</th><th>p50 µs</th><th>p99 µs</th></tr>");
        foreach (var p in timeline.Points)
        {
            html.Append(c, $"<tr><td>{p.Second}</td><td>{p.Workers}</td><td>{p.Requests}</td><td>{p.Errors}</td><td>{p.Connections}</td><td>{p.P50Us}</td><td>{p.P99Us}</td></tr>");
        }
        html.Append("</table><h2>errors</h2><ul>");
        foreach (var (kind, count) in report.Result.Errors)
        {
            html.Append(c, $"<li>{count:N0} {WebUtility.HtmlEncode(kind)}</li>");
        }
        html.Append("</ul></body></html>");
        await File.WriteAllTextAsync(path, html.ToString());
    }
}
