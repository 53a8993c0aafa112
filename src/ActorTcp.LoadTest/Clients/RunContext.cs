// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using System.Security.Cryptography;
using System.Text;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using ActorTcp.Protocol;

namespace ActorTcp.LoadTest.Clients;

/// <summary>
/// What every client of one process shares: read-only settings and requests built once (shared, never written to),
/// plus the thread-safe metrics.
/// </summary>
internal sealed class RunContext
{
    private readonly RequestEncoder _encoder;
    private readonly IPEndPoint[] _remotes;
    private readonly IPEndPoint[] _sources;

    public RunContext(LoadOptions options, LoadMetrics metrics)
    {
        Options = options;
        Metrics = metrics;
        _encoder = RequestEncoder.For(options.Framing == Framing.Binary);
        // Made once and shared: a socket keeps the endpoint it was bound with, and there are tens of thousands of them.
        _remotes = options.Ports.Select(port => new IPEndPoint(options.Host, port)).ToArray();
        _sources = Enumerable.Range(0, options.SourceIps).Select(i => new IPEndPoint(new IPAddress([127, 0, 0, (byte)(2 + i)]), 0)).ToArray();
        var payload = MakePayload(options.Payload);
        EchoPayload = Encoding.ASCII.GetBytes(payload);
        EchoRequest = Encode(Requests.Echo(payload));
        PingRequest = Encode(Requests.Ping);
        QuitRequest = Encode(Requests.Quit);
        if (options.File is not null)
        {
            GetRequest = Encode(Requests.Get(options.File));
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
        HeartbeatClock = new ClientClock(options.Heartbeat);
        CheckClock = new ClientClock(TimeSpan.FromTicks(Math.Clamp(options.Timeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond)));
    }

    /// <summary>What idle clients PING on once their dialog is done: one beat per --heartbeat.</summary>
    public ClientClock HeartbeatClock { get; }

    /// <summary>
    /// What every other client (and an idle one until its dialog is done) looks at its deadlines on: a quarter of
    /// --timeout, between 100 ms and 1 s, so that a timeout is seen at most a quarter late.
    /// </summary>
    public ClientClock CheckClock { get; }

    public LoadOptions Options { get; }

    /// <summary>
    /// The clients' mailbox, once <see cref="ClientMailbox.Register"/> has made it known to the actor system that runs
    /// them; null: Akka's default mailbox (about 900 B more per client).
    /// </summary>
    public string? Mailbox { get; set; }

    /// <summary>The clients' dispatcher (the epoll loops, where they run); null: Akka's default dispatcher.</summary>
    public string? Dispatcher { get; set; }

    public LoadMetrics Metrics { get; }

    public byte[] EchoRequest { get; }

    /// <summary>The exact reply line an ECHO must get back.</summary>
    public byte[] EchoPayload { get; }

    public byte[] PingRequest { get; }

    public byte[] QuitRequest { get; }

    public byte[]? GetRequest { get; }

    public byte[]? ExpectedFile { get; }

    public string? ExpectedSha256 { get; }

    /// <summary>Longest reply line or frame accepted before the client calls the stream broken.</summary>
    public int MaxReplyBytes => Math.Max(70_000, Options.Payload + 1024);

    public IPEndPoint Remote(int index) => _remotes[index % _remotes.Length];

    /// <summary>Spreading sources over 127.0.0.x gives every address its own ephemeral port range.</summary>
    public IPEndPoint? Local(int index) => _sources.Length == 0 ? null : _sources[index % _sources.Length];

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

    /// <summary>One request line in this run's framing.</summary>
    public byte[] Encode(string line) => _encoder.Encode(line);

    /// <summary>Printable, no spaces at either end, so ECHO's reply is byte-for-byte the payload.</summary>
    private static string MakePayload(int length)
    {
        const string alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        var chars = new char[length];
        for (var i = 0; i < length; i++)
        {
            chars[i] = alphabet[i % alphabet.Length];
        }
        return new string(chars);
    }
}
