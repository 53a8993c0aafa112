using System.Net;
using System.Security.Cryptography;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using ActorTcp.LoadTest.Protocol;

namespace ActorTcp.LoadTest.Clients;

/// <summary>What every client of one process shares: read-only settings and prebuilt requests, plus the thread-safe metrics.</summary>
internal sealed class RunContext
{
    public RunContext(LoadOptions options, LoadMetrics metrics)
    {
        Options = options;
        Metrics = metrics;
        Requests = new Requests(options.Framing == Framing.Binary, options.Payload);
        if (options.File is not null)
        {
            GetRequest = Requests.Encode("GET " + QuotePath(options.File));
        }
        if (options.FileLocal is not null)
        {
            ExpectedFile = File.ReadAllBytes(options.FileLocal);
            if (options.FileSha256 is not null && Convert.ToHexStringLower(SHA256.HashData(ExpectedFile)) != options.FileSha256)
            {
                throw new UsageException("--file-local and --file-sha256 disagree");
            }
        }
        ExpectedSha256 = options.FileSha256;
    }

    public LoadOptions Options { get; }

    public LoadMetrics Metrics { get; }

    public Requests Requests { get; }

    public Akka.IO.ByteString? GetRequest { get; }

    public byte[]? ExpectedFile { get; }

    public string? ExpectedSha256 { get; }

    /// <summary>Longest reply line or frame accepted before the client calls the stream broken.</summary>
    public int MaxReplyBytes => Math.Max(70_000, Options.Payload + 1024);

    public EndPoint Remote(int index) =>
        new IPEndPoint(Options.Host, Options.Ports[index % Options.Ports.Count]);

    /// <summary>Spreading sources over 127.0.0.x gives every address its own ephemeral port range.</summary>
    public EndPoint? Local(int index) =>
        Options.SourceIps == 0 ? null : new IPEndPoint(new IPAddress([127, 0, 0, (byte)(2 + index % Options.SourceIps)]), 0);

    /// <summary>Which scenario a client of a mixed run plays, by its global index (deterministic and spread evenly).</summary>
    public Scenario ScenarioOf(int index)
    {
        if (Options.Scenario != Scenario.Mixed)
        {
            return Options.Scenario;
        }
        var weights = Options.Mix.Where(kv => kv.Value > 0).OrderBy(kv => kv.Key).ToArray();
        var total = weights.Sum(kv => kv.Value);
        // A multiplicative hash keeps neighbouring indexes from landing in the same scenario.
        var slot = (int)((uint)(index * 2654435761u) % (uint)total);
        foreach (var (scenario, weight) in weights)
        {
            if (slot < weight)
            {
                return scenario;
            }
            slot -= weight;
        }
        return weights[^1].Key;
    }

    private static string QuotePath(string path) =>
        path.IndexOfAny([' ', '\t', '"', '\\']) < 0
            ? path
            : "\"" + path.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
}
