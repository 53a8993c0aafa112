using System.Text.RegularExpressions;
using System.Xml;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Output;
using HdrHistogram;

namespace ActorTcp.LoadTest.Tests;

public sealed class HtmlReportTests
{
    private const string SvgNamespace = "http://www.w3.org/2000/svg";

    [Fact]
    public void The_report_is_one_well_formed_page_with_one_svg_per_chart()
    {
        var html = new SyntheticRun().Render();

        Assert.StartsWith("<!DOCTYPE html>", html, StringComparison.Ordinal);
        var page = Parse(html);
        Assert.Equal("html", page.DocumentElement!.Name);
        Assert.NotNull(page.SelectSingleNode("/html/head/meta[@charset='utf-8']"));
        Assert.NotEmpty(page.SelectSingleNode("/html/head/title")!.InnerText);

        Assert.Equal(HtmlReport.ChartIds.Count, Regex.Count(html, "<svg", RegexOptions.IgnoreCase));
        foreach (var id in HtmlReport.ChartIds)
        {
            var figure = page.SelectSingleNode($"/html/body/figure[@id='{id}']");
            Assert.NotNull(figure);
            var svg = Assert.Single(figure.ChildNodes.Cast<XmlNode>(), n => n.LocalName == "svg");
            Assert.Equal(SvgNamespace, svg.NamespaceURI);
            // Each chart stands alone as an SVG document too.
            var alone = new XmlDocument();
            alone.LoadXml(svg.OuterXml);
            Assert.Equal("svg", alone.DocumentElement!.LocalName);
            Assert.True(alone.GetElementsByTagName("path").Count + alone.GetElementsByTagName("polyline").Count > 0, $"chart {id} draws nothing");
        }
    }

    [Fact]
    public void The_report_loads_nothing_from_outside_the_file()
    {
        var html = new SyntheticRun().Render();

        Assert.DoesNotMatch(new Regex(@"\b(?:src|href)\s*=\s*[""']?(?!#|data:)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotMatch(new Regex(@"url\(\s*[""']?(?!#)", RegexOptions.IgnoreCase), html);
        Assert.DoesNotContain("@import", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@font-face", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotMatch(new Regex("<(?:script|link|img|iframe|object|embed)\\b", RegexOptions.IgnoreCase), html);
        // Namespace declarations are the only addresses the page may hold.
        var addresses = Regex.Matches(html, @"[a-z]+://[^\s""'<>)]+", RegexOptions.IgnoreCase).Select(m => m.Value).Distinct();
        Assert.All(addresses, a => Assert.Contains(a, new[] { SvgNamespace, "http://www.w3.org/1999/xlink" }));
    }

    [Fact]
    public void The_chart_guard_refuses_an_svg_that_refers_outside_the_page()
    {
        const string Local = """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><defs><clipPath id="c"><rect width="1" height="1"/></clipPath></defs><use xlink:href="#c" clip-path="url(#c)"/></svg>""";
        Assert.Contains("clip-path=\"url(#c)\"", HtmlReport.Svg.Inline(Local, "chart"), StringComparison.Ordinal);

        string[] outside =
        [
            """<svg xmlns="http://www.w3.org/2000/svg"><image href="http://example.org/a.png"/></svg>""",
            """<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"><use xlink:href="other.svg#a"/></svg>""",
            """<svg xmlns="http://www.w3.org/2000/svg"><rect fill="url(https://example.org/p.svg#g)"/></svg>""",
            """<svg xmlns="http://www.w3.org/2000/svg"><text style="font-family: x; @import 'f.css'">a</text></svg>""",
        ];
        Assert.All(outside, svg => Assert.Throws<InvalidOperationException>(() => HtmlReport.Svg.Inline(svg, "chart")));
    }

    [Fact]
    public void The_settings_table_shows_the_settings_given_escaped()
    {
        var run = new SyntheticRun(SyntheticRun.OptionsWith("lt<&>\"'"));
        var html = run.Render();

        var settings = Table(Parse(html), "settings");
        Assert.Equal("mixed", settings["scenario"]);
        Assert.Equal("127.0.0.5:6001,6002", settings["target"]);
        Assert.Equal("1,234", settings["clients"]);
        Assert.Equal("3", settings["processes"]);
        Assert.Equal("750 connections/s", settings["ramp"]);
        Assert.Equal("42 s", settings["duration (measured window)"]);
        Assert.Equal("321 B", settings["payload"]);
        Assert.Equal("4", settings["pipeline"]);
        Assert.Equal("idle=60, echo=25, churn=10, download=5", settings["mix"]);
        Assert.Equal("lt<&>\"'", settings["client name prefix"]);
        Assert.DoesNotContain("lt<&>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void The_totals_and_workers_tables_hold_the_runs_figures()
    {
        var run = new SyntheticRun();
        var page = Parse(run.Render());

        var totals = Table(page, "totals");
        Assert.Equal("3.1 s, 65 connections/s of 2,000 asked (SLOWER THAN ASKED)", totals["ramp"]);
        Assert.Equal("20.0 s", totals["measured window"]);
        Assert.Equal("14", totals["errors"]);
        Assert.Equal("26 s", totals["time series"]);

        var workers = page.SelectNodes("//h2[.='Workers']/following-sibling::table[1]/tbody/tr")!.Cast<XmlNode>()
            .Select(tr => tr.ChildNodes.Cast<XmlNode>().Select(td => td.InnerText).ToArray()).ToList();
        Assert.Equal(["worker-1@127.0.0.1:40001", "worker-2@127.0.0.1:40002"], workers.Select(r => r[0]));
        Assert.All(workers, r => Assert.Equal("100", r[3]));
        Assert.All(workers, r => Assert.Equal("7", r[2]));
    }

    [Fact]
    public void Every_chart_has_a_title_axis_labels_with_units_and_a_legend()
    {
        var page = Parse(new SyntheticRun().Render());

        string Text(string id) => string.Join('\n', page.SelectSingleNode($"//figure[@id='{id}']")!
            .SelectNodes(".//*[local-name()='text']")!.Cast<XmlNode>().Select(n => n.InnerText));
        Assert.Contains("requests/s", Text("throughput"), StringComparison.Ordinal);
        Assert.Contains("errors/s", Text("throughput"), StringComparison.Ordinal);
        Assert.Contains("time since start (s)", Text("throughput"), StringComparison.Ordinal);
        Assert.Contains("latency (ms, log scale)", Text("latency"), StringComparison.Ordinal);
        Assert.Contains("latency (ms, log scale)", Text("distribution"), StringComparison.Ordinal);
        Assert.Contains("p99", Text("latency"), StringComparison.Ordinal);
        Assert.Contains("99.9%", Text("distribution"), StringComparison.Ordinal);
        Assert.Contains("percentile", Text("distribution"), StringComparison.Ordinal);
        Assert.Contains("connections", Text("connections"), StringComparison.Ordinal);
        Assert.Contains("Connections open", Text("connections"), StringComparison.Ordinal);
    }

    [Fact]
    public void A_run_with_no_samples_still_renders_every_chart()
    {
        var run = new SyntheticRun();
        var html = HtmlReport.Render(run.Report, new Timeline(), new LongHistogram(1, 3_600_000_000, 3));

        Parse(html);
        Assert.Equal(HtmlReport.ChartIds.Count, Regex.Count(html, "<svg", RegexOptions.IgnoreCase));
    }

    [Fact]
    public async Task WriteAsync_writes_the_page_to_the_path_given()
    {
        var run = new SyntheticRun();
        var directory = Directory.CreateTempSubdirectory("actortcp-report-");
        try
        {
            var path = Path.Combine(directory.FullName, "report.html");
            await HtmlReport.WriteAsync(path, run.Report, run.Timeline, run.Latency);

            var bytes = await File.ReadAllBytesAsync(path);
            Assert.NotEqual(0xEF, bytes[0]); // no byte-order mark in front of the doctype
            Parse(await File.ReadAllTextAsync(path));

            // bench/report.sh --render draws this page in a real browser: ACTORTCP_SAMPLE_REPORT keeps a copy for it.
            if (Environment.GetEnvironmentVariable("ACTORTCP_SAMPLE_REPORT") is { Length: > 0 } keep)
            {
                File.Copy(path, keep, overwrite: true);
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }

    private static XmlDocument Parse(string html)
    {
        var page = new XmlDocument { XmlResolver = null };
        using var reader = XmlReader.Create(new StringReader(html), new XmlReaderSettings { DtdProcessing = DtdProcessing.Ignore, XmlResolver = null });
        page.Load(reader);
        return page;
    }

    private static Dictionary<string, string> Table(XmlDocument page, string id) =>
        page.SelectNodes($"//table[@id='{id}']/tbody/tr")!.Cast<XmlNode>()
            .ToDictionary(tr => tr.SelectSingleNode("th")!.InnerText, tr => tr.SelectSingleNode("td")!.InnerText);
}
