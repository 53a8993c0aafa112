// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;
using System.Net;
using System.Text;
using System.Xml;
using ActorTcp.LoadTest.Metrics;
using HdrHistogram;
using ScottPlot;

namespace ActorTcp.LoadTest.Output;

/// <summary>
/// The run as one self-contained HTML file: charts as inline SVG (drawn by ScottPlot), settings and totals as tables.
/// The page loads nothing from anywhere, so it can be mailed, attached to an issue or opened offline as it is.
/// </summary>
internal static class HtmlReport
{
    /// <summary>The charts, in page order; each is one inline <c>&lt;svg&gt;</c>.</summary>
    public static readonly IReadOnlyList<string> ChartIds = ["throughput", "latency", "distribution", "connections"];

    private const int ChartWidth = 1100;
    private const int ChartHeight = 360;
    private static readonly CultureInfo C = CultureInfo.InvariantCulture;

    public static async Task WriteAsync(string path, RunReport report, Timeline timeline, HistogramBase latencyUs)
    {
        var html = Render(report, timeline, latencyUs);
        await File.WriteAllTextAsync(path, html, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
    }

    /// <summary>The page as a string. It is well-formed XML as well as HTML, which is what lets the tests parse it whole.</summary>
    public static string Render(RunReport report, Timeline timeline, HistogramBase latencyUs)
    {
        var points = timeline.Points;
        var o = report.Options;
        var title = $"ActorTcp load test: {o.Scenario.ToString().ToLowerInvariant()}, {report.Result.Clients.ToString("N0", C)} clients";

        var w = new StringBuilder();
        w.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n");
        w.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n");
        w.Append("<title>").Append(H(title)).Append("</title>\n<style>\n").Append(Css).Append("</style>\n</head>\n<body>\n");
        w.Append("<h1>").Append(H(title)).Append("</h1>\n");
        w.Append("<p class=\"lead\">target ").Append(H($"{o.Host}:{string.Join(',', o.Ports)}"))
            .Append(", ").Append(H(report.Result.Processes.ToString(C))).Append(" process(es); written ")
            .Append(H(DateTimeOffset.UtcNow.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", C))).Append("</p>\n");

        Chart(w, "throughput", "Requests and errors per second",
            "Requests completed and errors counted in each second of the run, over every worker.",
            ThroughputPlot(points));
        Chart(w, "latency", "Request latency per second",
            "Median and 99th percentile of the requests completed in each second, from the workers' histograms merged per second.",
            LatencyPlot(points));
        Chart(w, "distribution", "Request latency percentile distribution",
            $"Every request latency in the measured window ({latencyUs.TotalCount.ToString("N0", C)} recorded), by percentile; the x axis stretches the tail.",
            DistributionPlot(latencyUs));
        Chart(w, "connections", "Connections open",
            "Connections the workers held open at each second.",
            ConnectionsPlot(points));

        Table(w, "Settings", Settings(report));
        Table(w, "Totals", Totals(report, points));
        Operations(w, report);
        Workers(w, timeline.Workers);
        Errors(w, report);
        w.Append("</body>\n</html>\n");
        return w.ToString();
    }

    private static Plot ThroughputPlot(IReadOnlyList<TimelinePoint> points)
    {
        var plot = NewPlot("Requests and errors per second", "time since start (s)", "requests/s");
        var xs = points.Select(p => (double)p.Second).ToArray();
        var requests = plot.Add.ScatterLine(xs, points.Select(p => (double)p.Requests).ToArray(), Colors.SteelBlue);
        requests.LegendText = "requests/s (left axis)";
        requests.LineWidth = 2;
        var errors = plot.Add.ScatterLine(xs, points.Select(p => (double)p.Errors).ToArray(), Colors.Crimson);
        errors.LegendText = "errors/s (right axis)";
        errors.LineWidth = 2;
        // Errors get their own axis: a handful per second would lie flat on the zero line of a 50,000 requests/s scale.
        errors.Axes.YAxis = plot.Axes.Right;
        plot.Axes.Right.Label.Text = "errors/s";
        plot.Axes.Right.Label.ForeColor = Colors.Crimson;
        CountAxis(plot, plot.Axes.Left, points.Select(p => (double)p.Requests));
        CountAxis(plot, plot.Axes.Right, points.Select(p => (double)p.Errors));
        OverTheRun(plot, points);
        return plot;
    }

    private static Plot LatencyPlot(IReadOnlyList<TimelinePoint> points)
    {
        var plot = NewPlot("Request latency per second", "time since start (s)", LatencyAxis);
        // A second with no completed request has no latency: leave it out rather than draw a false zero.
        var measured = points.Where(p => p.LatencyCount > 0).ToList();
        var xs = measured.Select(p => (double)p.Second).ToArray();
        var p99 = plot.Add.ScatterLine(xs, measured.Select(p => Log(p.P99Us)).ToArray(), Colors.DarkOrange);
        p99.LegendText = "p99";
        p99.LineWidth = 2;
        var p50 = plot.Add.ScatterLine(xs, measured.Select(p => Log(p.P50Us)).ToArray(), Colors.SteelBlue);
        p50.LegendText = "p50";
        p50.LineWidth = 2;
        LogLatencyAxis(plot, measured.SelectMany(p => new[] { p.P50Us, p.P99Us }));
        OverTheRun(plot, points);
        return plot;
    }

    private static Plot DistributionPlot(HistogramBase latencyUs)
    {
        var plot = NewPlot("Request latency percentile distribution", "percentile", LatencyAxis);
        // x = log10(1 / (1 - p)): 90 % sits at 1, 99 % at 2, 99.9 % at 3, so each "nine" of the tail gets equal room.
        var xs = new List<double>();
        var us = new List<long>();
        if (latencyUs.TotalCount > 0)
        {
            foreach (var v in latencyUs.Percentiles(5))
            {
                if (v.PercentileLevelIteratedTo >= 100)
                {
                    break;
                }
                xs.Add(Math.Log10(100 / (100 - v.PercentileLevelIteratedTo)));
                us.Add(v.ValueIteratedTo);
            }
        }
        var line = plot.Add.ScatterLine(xs.ToArray(), us.Select(Log).ToArray(), Colors.SteelBlue);
        line.LegendText = "latency at percentile";
        line.LineWidth = 2;
        double[] nines = [0, Math.Log10(2), 1, 2, 3, 4, 5, 6];
        string[] labels = ["0%", "50%", "90%", "99%", "99.9%", "99.99%", "99.999%", "99.9999%"];
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(nines, labels);
        var right = Math.Clamp(Math.Ceiling(xs.Count == 0 ? 3 : xs.Max()), 2, 6);
        plot.Axes.SetLimitsX(0, right);
        LogLatencyAxis(plot, us);
        plot.ShowLegend(Edge.Bottom);
        return plot;
    }

    private static Plot ConnectionsPlot(IReadOnlyList<TimelinePoint> points)
    {
        var plot = NewPlot("Connections open", "time since start (s)", "connections");
        var line = plot.Add.ScatterLine(
            points.Select(p => (double)p.Second).ToArray(), points.Select(p => (double)p.Connections).ToArray(), Colors.SeaGreen);
        line.LegendText = "connections open";
        line.LineWidth = 2;
        CountAxis(plot, plot.Axes.Left, points.Select(p => (double)p.Connections));
        OverTheRun(plot, points);
        return plot;
    }

    private static Plot NewPlot(string title, string x, string y)
    {
        var plot = new Plot();
        plot.Title(title, 18);
        plot.XLabel(x, 14);
        plot.YLabel(y, 14);
        plot.Axes.Bottom.TickLabelStyle.FontSize = 12;
        plot.Axes.Left.TickLabelStyle.FontSize = 12;
        plot.Axes.Right.TickLabelStyle.FontSize = 12;
        plot.Legend.FontSize = 13;
        if (SansFont.Value is { } font)
        {
            // Set per label rather than through plot.Font.Set, which also changes ScottPlot's process-wide default.
            plot.Axes.Title.Label.FontName = font;
            foreach (var axis in plot.Axes.GetAxes())
            {
                axis.Label.FontName = font;
                axis.TickLabelStyle.FontName = font;
            }
            plot.Legend.FontName = font;
        }
        return plot;
    }

    // Skia without fontconfig takes the first font file it finds as its default, which may be a serif one; text is
    // measured with the font named here, and the browser draws it with the same font where it has it.
    private static readonly Lazy<string?> SansFont = new(() =>
    {
        var installed = new HashSet<string>(SkiaSharp.SKFontManager.Default.FontFamilies, StringComparer.OrdinalIgnoreCase);
        return new[] { "DejaVu Sans", "Liberation Sans", "Arial", "Helvetica", "Noto Sans", "Open Sans" }.FirstOrDefault(installed.Contains);
    });

    // Latencies span decades (a 1 ms median under a 200 ms tail): on a linear axis the median would lie flat on
    // zero. Values are drawn as log10(ms) and the ticks are labelled in ms.
    private const string LatencyAxis = "latency (ms, log scale)";

    private static double Log(long us) => Math.Log10(Math.Max(1, us) / 1000.0);

    private static void LogLatencyAxis(Plot plot, IEnumerable<long> us)
    {
        var logs = us.Where(v => v > 0).Select(Log).ToList();
        var bottom = logs.Count == 0 ? 0 : Math.Floor(logs.Min());
        var top = logs.Count == 0 ? 1 : Math.Max(bottom + 1, Math.Ceiling(logs.Max()));
        var ticks = new ScottPlot.TickGenerators.NumericManual();
        // 1-2-5 labels over a few decades; past that they crowd, so the 2s and 5s become unlabelled minor ticks.
        var crowded = top - bottom > 3;
        for (var decade = (int)bottom; decade <= (int)top; decade++)
        {
            foreach (var step in new[] { 1, 2, 5 })
            {
                var ms = step * Math.Pow(10, decade);
                if (crowded && step != 1)
                {
                    ticks.AddMinor(Math.Log10(ms));
                }
                else
                {
                    ticks.AddMajor(Math.Log10(ms), ms.ToString("#,0.###", C));
                }
            }
        }
        plot.Axes.Left.TickGenerator = ticks;
        plot.Axes.SetLimitsY(bottom, top, plot.Axes.Left);
    }

    // Every time chart spans the same seconds, so one can be read against another; the legend goes under the
    // chart, where it hides no data.
    private static void OverTheRun(Plot plot, IReadOnlyList<TimelinePoint> points)
    {
        plot.Axes.SetLimitsX(0, Math.Max(1, points.Count - 1));
        // Points are whole seconds; a tick at 2.5 s would mark a time no point stands for.
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
        plot.ShowLegend(Edge.Bottom);
    }

    // Counts start at zero (autoscale alone would zoom into the noise of a flat line and make it look wild) and
    // are whole numbers (no tick at 0.5 errors/s when there were none).
    private static void CountAxis(Plot plot, IYAxis axis, IEnumerable<double> values)
    {
        var top = values.DefaultIfEmpty(0).Max();
        plot.Axes.SetLimitsY(0, top > 0 ? top * 1.1 : 1, axis);
        axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { IntegerTicksOnly = true };
    }

    private static void Chart(StringBuilder w, string id, string title, string caption, Plot plot)
    {
        using (plot)
        {
            w.Append("<figure id=\"").Append(H(id)).Append("\">\n")
                .Append(Svg.Inline(plot.GetSvgXml(ChartWidth, ChartHeight), title))
                .Append("\n<figcaption>").Append(H(caption)).Append("</figcaption>\n</figure>\n");
        }
    }

    private static IEnumerable<(string, string)> Settings(RunReport report)
    {
        var o = report.Options;
        yield return ("scenario", o.Scenario.ToString().ToLowerInvariant());
        yield return ("framing", o.Framing.ToString().ToLowerInvariant());
        yield return ("target", $"{o.Host}:{string.Join(',', o.Ports)}");
        yield return ("clients", o.Clients.ToString("N0", C));
        yield return ("processes", o.Processes.ToString(C));
        yield return ("ramp", $"{o.Ramp.ToString("N0", C)} connections/s");
        yield return ("ramp timeout", Seconds(o.EffectiveRampTimeout));
        yield return ("warm-up", Seconds(o.Warmup));
        yield return ("duration (measured window)", Seconds(o.Duration));
        yield return ("drain", Seconds(o.Drain));
        yield return ("reply timeout", Seconds(o.Timeout));
        yield return ("handshake timeout", Seconds(o.HandshakeTimeout));
        yield return ("payload", $"{o.Payload.ToString("N0", C)} B");
        yield return ("pipeline", o.Pipeline.ToString(C));
        yield return ("heartbeat", Seconds(o.Heartbeat));
        yield return ("source addresses", o.SourceIps == 0 ? "127.0.0.1 (kernel's choice)" : $"127.0.0.2 .. 127.0.0.{o.SourceIps + 1}");
        yield return ("connects in flight per process", o.MaxConnecting.ToString("N0", C));
        yield return ("reconnect", o.Reconnect ? "yes" : "no");
        yield return ("client name prefix", o.NamePrefix);
        if (o.Scenario == Options.Scenario.Mixed)
        {
            yield return ("mix", string.Join(", ", o.Mix.Select(kv => $"{kv.Key.ToString().ToLowerInvariant()}={kv.Value}")));
        }
        if (o.File is not null)
        {
            yield return ("file", o.File);
        }
    }

    private static IEnumerable<(string, string)> Totals(RunReport report, IReadOnlyList<TimelinePoint> points)
    {
        var r = report.Result;
        if (!report.Options.MeasuresFromStart)
        {
            yield return ("ramp", report.RampLine);
        }
        yield return ("measured window", $"{r.WindowSeconds.ToString("F1", C)} s");
        yield return ("requests per second", $"{report.OpsPerSecond.ToString("N0", C)} in the window");
        yield return ("clients", $"{r.ClientsCompleted.ToString("N0", C)} completed, {r.ClientsFailed.ToString("N0", C)} failed");
        yield return ("connections", $"{r.ConnectsStarted.ToString("N0", C)} started, {r.Connected.ToString("N0", C)} established; {r.AliveAtWindowEnd.ToString("N0", C)} named at the window's end, peak {r.PeakAlive.ToString("N0", C)}");
        if (report.Options.Reconnect)
        {
            yield return ("reconnects", $"{r.Reconnects.ToString("N0", C)} made again, {r.ReconnectAttemptsFailed.ToString("N0", C)} attempts failed");
        }
        yield return ("errors", r.Errors.Values.Sum().ToString("N0", C));
        yield return ("bytes in the window", $"{r.BytesOutWindow.ToString("N0", C)} sent, {r.BytesInWindow.ToString("N0", C)} received");
        yield return ("bytes in the run", $"{r.BytesOutTotal.ToString("N0", C)} sent, {r.BytesInTotal.ToString("N0", C)} received");
        yield return ("generator", $"CPU {report.LoadgenCpuPercent.ToString("F0", C)} % of one core in the window, peak RSS {(r.PeakRssKb / 1024.0).ToString("F0", C)} MiB");
        if (report.Server is { } server && report.Options.ServerPids.Count > 0)
        {
            yield return ("server", $"RSS {(server.RssKbStart / 1024.0).ToString("F1", C)} -> {(server.RssKbEnd / 1024.0).ToString("F1", C)} MiB, CPU {server.CpuPercent.ToString("F1", C)} % of one core in the window");
        }
        var silent = points.Count(p => p.Workers == 0);
        yield return ("time series", $"{points.Count.ToString(C)} s" + (silent > 0 ? $", {silent.ToString(C)} s with no sample from any worker (drawn as zero)" : ""));
    }

    private static void Operations(StringBuilder w, RunReport report)
    {
        w.Append("<h2>Operations</h2>\n<table class=\"num\">\n<thead><tr><th>op</th><th>count</th><th>per s</th><th>p50 ms</th><th>p90 ms</th><th>p99 ms</th><th>p99.9 ms</th><th>max ms</th></tr></thead>\n<tbody>\n");
        foreach (var (name, s) in report.Ops.OrderBy(kv => kv.Key, StringComparer.Ordinal).Append(new("handshake", report.Connect)))
        {
            var perSecond = name == "handshake" ? "(run)" : s.PerSecond.ToString("N0", C);
            Row(w, name, s.Count.ToString("N0", C), perSecond, Ms(s.P50Ms), Ms(s.P90Ms), Ms(s.P99Ms), Ms(s.P999Ms), Ms(s.MaxMs));
        }
        w.Append("</tbody>\n</table>\n");
    }

    private static void Workers(StringBuilder w, IReadOnlyList<TimelineWorker> workers)
    {
        if (workers.Count == 0)
        {
            return;
        }
        w.Append("<h2>Workers</h2>\n<table class=\"num\">\n<thead><tr><th>worker</th><th>requests</th><th>errors</th><th>peak connections</th></tr></thead>\n<tbody>\n");
        foreach (var worker in workers)
        {
            Row(w, worker.Name, worker.Requests.ToString("N0", C), worker.Errors.ToString("N0", C), worker.PeakConnections.ToString("N0", C));
        }
        w.Append("</tbody>\n</table>\n");
    }

    private static void Errors(StringBuilder w, RunReport report)
    {
        var r = report.Result;
        w.Append("<h2>Errors</h2>\n");
        if (r.Errors.Count == 0)
        {
            w.Append("<p>none</p>\n");
            return;
        }
        w.Append("<table class=\"num\">\n<thead><tr><th>kind</th><th>count</th></tr></thead>\n<tbody>\n");
        foreach (var (kind, count) in r.Errors.OrderByDescending(kv => kv.Value))
        {
            Row(w, kind, count.ToString("N0", C));
        }
        w.Append("</tbody>\n</table>\n");
        if (r.ErrorSamples.Count > 0)
        {
            w.Append("<ul class=\"samples\">\n");
            foreach (var sample in r.ErrorSamples.Take(10))
            {
                w.Append("<li><code>").Append(H(sample)).Append("</code></li>\n");
            }
            w.Append("</ul>\n");
        }
    }

    private static void Table(StringBuilder w, string heading, IEnumerable<(string Key, string Value)> rows)
    {
        w.Append("<h2>").Append(H(heading)).Append("</h2>\n<table class=\"kv\" id=\"").Append(H(heading.ToLowerInvariant())).Append("\">\n<tbody>\n");
        foreach (var (key, value) in rows)
        {
            w.Append("<tr><th scope=\"row\">").Append(H(key)).Append("</th><td>").Append(H(value)).Append("</td></tr>\n");
        }
        w.Append("</tbody>\n</table>\n");
    }

    private static void Row(StringBuilder w, params string[] cells)
    {
        w.Append("<tr>");
        foreach (var cell in cells)
        {
            w.Append("<td>").Append(H(cell)).Append("</td>");
        }
        w.Append("</tr>\n");
    }

    private static string Seconds(TimeSpan t) => $"{t.TotalSeconds.ToString("0.###", C)} s";

    private static string Ms(double ms) => ms.ToString("F2", C);

    private static string H(string text) => WebUtility.HtmlEncode(text);

    // System fonts only: a web font would be a load from outside the file.
    private const string Css = """
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 24px auto; max-width: 1140px; color: #1b1b1b; background: #fff; }
        h1 { font-size: 24px; margin: 0 0 4px; }
        h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
        p.lead { color: #555; margin: 0 0 16px; }
        figure { margin: 16px 0; }
        figure svg { display: block; width: 100%; height: auto; border: 1px solid #e3e3e3; }
        figcaption { color: #555; font-size: 13px; margin-top: 4px; }
        table { border-collapse: collapse; font-size: 14px; }
        th, td { padding: 4px 10px; border-bottom: 1px solid #eee; text-align: left; vertical-align: top; }
        table.kv th { font-weight: 600; color: #333; white-space: nowrap; }
        table.num td + td { text-align: right; font-variant-numeric: tabular-nums; }
        thead th { border-bottom: 2px solid #ccc; }
        ul.samples { font-size: 13px; }

        """;

    /// <summary>Turns a standalone SVG document into an element the page can hold, and refuses one that would load anything.</summary>
    internal static class Svg
    {
        public static string Inline(string document, string title)
        {
            var xml = new XmlDocument { XmlResolver = null };
            using (var reader = XmlReader.Create(new StringReader(document), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null }))
            {
                xml.Load(reader);
            }
            var root = xml.DocumentElement ?? throw new InvalidOperationException("the chart's SVG has no root element");
            foreach (var element in root.SelectNodes("descendant-or-self::*")!.Cast<XmlElement>())
            {
                foreach (var attribute in element.Attributes.Cast<XmlAttribute>())
                {
                    if (!IsLocal(attribute))
                    {
                        throw new InvalidOperationException($"the chart's SVG refers outside the page: {attribute.Name}=\"{attribute.Value}\"");
                    }
                }
            }
            // A browser without the font the chart was measured with should still draw sans-serif text.
            foreach (var element in root.SelectNodes("descendant-or-self::*[@font-family]")!.Cast<XmlElement>())
            {
                var family = element.GetAttribute("font-family");
                if (!family.Contains("sans-serif", StringComparison.Ordinal))
                {
                    element.SetAttribute("font-family", $"{family}, sans-serif");
                }
            }
            // An accessible name for the chart, and what a browser shows on hover.
            var label = xml.CreateElement("title", root.NamespaceURI);
            label.InnerText = title;
            root.PrependChild(label);
            root.SetAttribute("role", "img");
            root.SetAttribute("aria-label", title);
            return root.OuterXml;
        }

        // Namespace declarations name a namespace, they fetch nothing; references must stay inside the document.
        private static bool IsLocal(XmlAttribute attribute)
        {
            if (attribute.Prefix == "xmlns" || attribute.Name == "xmlns")
            {
                return true;
            }
            var value = attribute.Value.Trim();
            if (attribute.LocalName is "href" or "src")
            {
                return value.StartsWith('#') || value.StartsWith("data:", StringComparison.OrdinalIgnoreCase);
            }
            var index = value.IndexOf("url(", StringComparison.OrdinalIgnoreCase);
            while (index >= 0)
            {
                var target = value[(index + 4)..].TrimStart(' ', '\'', '"');
                if (!target.StartsWith('#'))
                {
                    return false;
                }
                index = value.IndexOf("url(", index + 4, StringComparison.OrdinalIgnoreCase);
            }
            return !value.Contains("@import", StringComparison.OrdinalIgnoreCase);
        }
    }
}
