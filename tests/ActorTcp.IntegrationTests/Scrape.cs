using System.Globalization;
using System.Net.Http;

namespace ActorTcp.IntegrationTests;

/// <summary>One read of a server's <c>/metrics</c>, in the Prometheus text format, looked up by series and labels.</summary>
public sealed class Scrape
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private readonly List<(string Name, Dictionary<string, string> Labels, double Value)> _samples = new();

    private Scrape(string text)
    {
        Text = text;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var space = line.LastIndexOf(' ');
            var series = line[..space];
            var value = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            var brace = series.IndexOf('{');
            var labels = new Dictionary<string, string>();
            if (brace >= 0)
            {
                foreach (var pair in series[(brace + 1)..^1].Split("\","))
                {
                    var eq = pair.IndexOf('=');
                    if (eq > 0) labels[pair[..eq]] = pair[(eq + 1)..].Trim('"');
                }
                series = series[..brace];
            }
            _samples.Add((series, labels, value));
        }
    }

    /// <summary>The body as served.</summary>
    public string Text { get; }

    public static async Task<Scrape> GetAsync(int port) =>
        new(await Http.GetStringAsync($"http://127.0.0.1:{port}/metrics"));

    /// <summary>Scrapes until <paramref name="condition"/> holds: the counters are read at the moment of the scrape.</summary>
    public static async Task<Scrape> UntilAsync(int port, Func<Scrape, bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TestClient.Timeout;
        while (true)
        {
            var scrape = await GetAsync(port);
            if (condition(scrape)) return scrape;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"/metrics never showed {what}; last:\n{scrape.Text}");
            await Task.Delay(25);
        }
    }

    /// <summary>The value of the one sample of <paramref name="name"/> with these labels (others ignored); 0 when absent.</summary>
    public double Value(string name, params (string Key, string Value)[] labels)
    {
        var matches = _samples.Where(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value)).ToList();
        Assert.True(matches.Count <= 1, $"{name} has {matches.Count} samples with those labels");
        return matches.Count == 0 ? 0 : matches[0].Value;
    }

    public bool Has(string name) => _samples.Any(s => s.Name == name);

    public IEnumerable<string> LabelValues(string name, string key) =>
        _samples.Where(s => s.Name == name && s.Labels.ContainsKey(key)).Select(s => s.Labels[key]);

    public double Sum(string name) => _samples.Where(s => s.Name == name).Sum(s => s.Value);
}
