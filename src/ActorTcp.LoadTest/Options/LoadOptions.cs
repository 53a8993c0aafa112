// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;
using System.Net;

namespace ActorTcp.LoadTest.Options;

internal enum Scenario { Dialog, Echo, Idle, Download, Churn, Mixed }

internal enum Framing { Text, Binary }

/// <summary>Everything one run needs, parsed and validated once; workers get the same record back through <see cref="ToWorkerArgs"/>.</summary>
internal sealed record LoadOptions
{
    public IPAddress Host { get; init; } = IPAddress.Loopback;
    public IReadOnlyList<int> Ports { get; init; } = [];
    public Scenario Scenario { get; init; } = Scenario.Echo;
    public Framing Framing { get; init; } = Framing.Text;
    /// <summary>Clients in the whole run (for churn: concurrent slots).</summary>
    public int Clients { get; init; } = 100;
    /// <summary>New connections per second over the whole run.</summary>
    public double Ramp { get; init; } = 2000;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);
    public TimeSpan Warmup { get; init; } = TimeSpan.FromSeconds(1);
    /// <summary>How long the ramp may take before the measured window starts anyway.</summary>
    public TimeSpan? RampTimeout { get; init; }
    /// <summary>How long clients get to say QUIT and see the server close after the window.</summary>
    public TimeSpan Drain { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>A reply (or a connect, or download progress) later than this is a timeout error.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);
    /// <summary>From the connect to <c>Hello NAME!</c>; the server's own handshake-timeout defaults to 30 s as well.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(30);
    public int Payload { get; init; } = 64;
    public int Pipeline { get; init; } = 1;
    public TimeSpan Heartbeat { get; init; } = TimeSpan.FromSeconds(5);
    /// <summary>0: the kernel picks 127.0.0.1; n: sources 127.0.0.2 .. 127.0.0.(n+1), round-robin by client index.</summary>
    public int SourceIps { get; init; }
    /// <summary>Worker processes this command starts on this machine; 1 with no --workers runs the clients in this process.</summary>
    public int Processes { get; init; } = 1;
    /// <summary>Workers started elsewhere (<c>worker --join</c>) that the run waits for, besides the local ones.</summary>
    public int Workers { get; init; }
    /// <summary>The address the coordinator's cluster endpoint binds and workers join.</summary>
    public string ClusterHost { get; init; } = "127.0.0.1";
    /// <summary>The coordinator's cluster port; 0 picks a free one (printed).</summary>
    public int ClusterPort { get; init; }
    /// <summary>How long the coordinator waits for every worker to join.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(60);
    public string? ReportPath { get; init; }
    /// <summary>Connects in flight at once per process, so a ramp does not overrun the server's backlog.</summary>
    public int MaxConnecting { get; init; } = 512;
    public string? JsonPath { get; init; }
    public bool NoLive { get; init; }
    public string NamePrefix { get; init; } = "lt";
    public string? File { get; init; }
    public string? FileLocal { get; init; }
    public string? FileSha256 { get; init; }
    public IReadOnlyDictionary<Scenario, int> Mix { get; init; } = DefaultMix;
    public IReadOnlyList<int> ServerPids { get; init; } = [];
    /// <summary>A client whose connection the server closes or resets connects again (see <see cref="Clients.Backoff"/>).</summary>
    public bool Reconnect { get; init; }
    /// <summary>A private network that a test script made (network namespaces), allowed as a target besides loopback.</summary>
    public IPNetwork? AllowNetwork { get; init; }

    // Set for worker processes only.
    public bool Worker { get; init; }
    public int ClientOffset { get; init; }
    public int TotalClients { get; init; }

    public static readonly IReadOnlyDictionary<Scenario, int> DefaultMix =
        new Dictionary<Scenario, int> { [Scenario.Idle] = 60, [Scenario.Echo] = 25, [Scenario.Churn] = 10, [Scenario.Download] = 5 };

    /// <summary>The clients run in worker processes that are members of one Akka cluster with this command.</summary>
    public bool Distributed => Processes > 1 || Workers > 0;

    public TimeSpan EffectiveRampTimeout => RampTimeout ?? TimeSpan.FromSeconds(60 + Clients / Math.Max(1, Ramp));

    /// <summary>The run's outer bound: ramp, warm-up, window, drain, plus slack for process start and reports.</summary>
    public TimeSpan HardLimit => EffectiveRampTimeout + Warmup + Duration + Drain + TimeSpan.FromSeconds(30);

    /// <summary>Dialog and churn measure from the first connect; the others after every client is up.</summary>
    public bool MeasuresFromStart => Scenario is Scenario.Dialog or Scenario.Churn;

    public const string Usage = """
        ActorTcp.LoadTest: simulated clients, one Akka actor each over the server's own socket transport (loopback only).

          dotnet run -c Release --project src/ActorTcp.LoadTest -- --port 6000 --scenario echo --clients 1000

        --host ADDR            target address, 127.0.0.0/8 only (see --allow-network)   [127.0.0.1]
        --allow-network CIDR   also allow targets in this private network (10/8, 172.16/12, 192.168/16)
                               that a test script made, e.g. bench/cluster-netns.sh
        --port P[,P...]        target port(s); clients are spread round-robin             (required)
        --scenario NAME        dialog | echo | idle | download | churn | mixed           [echo]
        --framing KIND         text | binary (use the binary listener's port)            [text]
        --clients N            clients (churn: concurrent connect/dialog/quit loops)     [100]
        --ramp R               new connections per second                                [2000]
        --duration T           measured window (30s, 500ms, 2m)                          [30s]
        --warmup T             pause between "all clients up" and the window             [1s]
        --ramp-timeout T       start the window anyway after T                           [60s + clients/ramp]
        --drain T              time for QUIT/Goodbye after the window                     [10s]
        --timeout T            connect, reply and download-progress timeout               [10s]
        --handshake-timeout T  from connected to Hello NAME!                             [30s]
        --payload B            echo payload bytes                                        [64]
        --pipeline K           echo requests in flight per client                        [1]
        --heartbeat T          idle: PING period per client (staggered), PONG expected   [5s]
        --source-ips N         bind sources over 127.0.0.2..127.0.0.(N+1); 0 = auto      [auto: 0 up to 20,000 clients]
        --processes N          start N local worker processes and merge their results;   [1]
                               1 (with no --workers) runs the clients in this process
        --workers M            also wait for M workers started elsewhere with              [0]
                               `ActorTcp.LoadTest worker --join HOST:PORT`
        --cluster-host ADDR    address the run's cluster endpoint binds (workers join it) [127.0.0.1]
        --cluster-port P       port of that endpoint; 0 = any free port (printed)        [0]
        --join-timeout T       how long to wait for every worker to join                 [60s]
        --report FILE          write the run as one self-contained HTML page with charts
        --max-connecting N     connects in flight per process                            [512]
        --file PATH            download: path on the server (GET PATH)
        --file-local FILE      download: local copy to compare every byte with
        --file-sha256 HEX      download: or the SHA-256 of the file
        --mix a=W,b=W          mixed: weights of idle, echo, churn, download, dialog     [idle=60,echo=25,churn=10,download=5]
        --name-prefix S        client names are S<index>                                 [lt]
        --reconnect            a connection the server closes or resets is made again (jittered
                               backoff, 50 ms doubling to 5 s) and the dialog redone; counted
                               as reconnects, not errors
        --server-pid PID[,..]  sample the server's RSS and CPU from /proc (summed)
        --json FILE            write the report as JSON
        --no-live              no live view (it is also off when stdout is not a terminal)

        Exit code: 0 no errors, 1 some client failed, an error was counted or a worker was lost,
        2 bad arguments, 3 the run passed its time limit.

        A worker on another machine (it stays until the run it joined ends, at most its bound):
          ActorTcp.LoadTest worker --join HOST:PORT [--name NAME] [--cluster-host ADDR] [--cluster-port P] [--join-timeout T]
        """;

    public static LoadOptions Parse(string[] args)
    {
        var o = new LoadOptions();
        for (var i = 0; i < args.Length; i++)
        {
            var flag = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new UsageException($"{flag} needs a value");
            o = flag switch
            {
                "--host" => o with { Host = ParseHost(Next()) },
                "--allow-network" => o with { AllowNetwork = ParseNetwork(Next()) },
                "--reconnect" => o with { Reconnect = true },
                "--port" or "--ports" => o with { Ports = ParseList(Next(), flag, p => ParseInt(p, flag, 1, 65535)) },
                "--scenario" => o with { Scenario = ParseEnum<Scenario>(Next(), flag) },
                "--framing" => o with { Framing = ParseEnum<Framing>(Next(), flag) },
                "--clients" => o with { Clients = ParseInt(Next(), flag, 1, 1_000_000) },
                "--ramp" => o with { Ramp = ParseDouble(Next(), flag) },
                "--duration" => o with { Duration = ParseDuration(Next(), flag) },
                "--warmup" => o with { Warmup = ParseDuration(Next(), flag, allowZero: true) },
                "--ramp-timeout" => o with { RampTimeout = ParseDuration(Next(), flag) },
                "--drain" => o with { Drain = ParseDuration(Next(), flag) },
                "--timeout" => o with { Timeout = ParseDuration(Next(), flag) },
                "--handshake-timeout" => o with { HandshakeTimeout = ParseDuration(Next(), flag) },
                "--payload" => o with { Payload = ParseInt(Next(), flag, 0, 1 << 20) },
                "--pipeline" => o with { Pipeline = ParseInt(Next(), flag, 1, 10_000) },
                "--heartbeat" => o with { Heartbeat = ParseDuration(Next(), flag) },
                "--source-ips" => o with { SourceIps = ParseInt(Next(), flag, 0, 250) },
                "--processes" => o with { Processes = ParseInt(Next(), flag, 0, 64) },
                "--workers" => o with { Workers = ParseInt(Next(), flag, 0, 1000) },
                "--cluster-host" => o with { ClusterHost = ParseBindAddress(Next(), flag) },
                "--cluster-port" => o with { ClusterPort = ParseInt(Next(), flag, 0, 65535) },
                "--join-timeout" => o with { JoinTimeout = ParseDuration(Next(), flag) },
                "--report" => o with { ReportPath = Next() },
                "--max-connecting" => o with { MaxConnecting = ParseInt(Next(), flag, 1, 100_000) },
                "--json" => o with { JsonPath = Next() },
                "--no-live" => o with { NoLive = true },
                "--name-prefix" => o with { NamePrefix = Next() },
                "--file" => o with { File = Next() },
                "--file-local" => o with { FileLocal = Next() },
                "--file-sha256" => o with { FileSha256 = Next().ToLowerInvariant() },
                "--mix" => o with { Mix = ParseMix(Next()) },
                "--server-pid" => o with { ServerPids = ParseList(Next(), flag, p => ParseInt(p, flag, 1, int.MaxValue)) },
                "--worker" => o with { Worker = true },
                "--client-offset" => o with { ClientOffset = ParseInt(Next(), flag, 0, int.MaxValue) },
                "--total-clients" => o with { TotalClients = ParseInt(Next(), flag, 1, int.MaxValue) },
                "-h" or "--help" => throw new UsageException(null),
                _ => throw new UsageException($"unknown flag {flag}"),
            };
        }
        return o.Validate();
    }

    private LoadOptions Validate()
    {
        if (Ports.Count == 0)
        {
            throw new UsageException("--port is required");
        }
        // The generator is for this machine only: refusing other targets keeps it from being pointed at someone's server.
        var loopback = Host.GetAddressBytes()[0] == 127;
        if (!loopback && !(AllowNetwork?.Contains(Host) ?? false))
        {
            throw new UsageException($"--host {Host}: refused, only loopback targets (127.0.0.0/8) are allowed, or a test network given with --allow-network");
        }
        if (!loopback && SourceIps > 0)
        {
            throw new UsageException("--source-ips binds 127.0.0.x sources: loopback targets only");
        }
        if (Processes == 0 && Workers == 0)
        {
            throw new UsageException("--processes 0 leaves no one to run the clients: give --workers M");
        }
        if (Ramp <= 0)
        {
            throw new UsageException("--ramp must be positive");
        }
        if (Scenario is Scenario.Echo && Payload > 0 && Framing == Framing.Text && Payload > 4000)
        {
            throw new UsageException("--payload over 4000 bytes would pass the text listener's 4096-byte line limit");
        }
        var usesDownload = Scenario == Scenario.Download || (Scenario == Scenario.Mixed && Mix.GetValueOrDefault(Scenario.Download) > 0);
        if (usesDownload)
        {
            if (File is null)
            {
                throw new UsageException(Scenario == Scenario.Mixed
                    ? "mixed includes download: give --file (and --file-local or --file-sha256), or set download=0 in --mix"
                    : "download needs --file PATH (the path on the server)");
            }
            if (FileLocal is null && FileSha256 is null)
            {
                throw new UsageException("download needs --file-local FILE or --file-sha256 HEX to verify the bytes");
            }
            if (FileLocal is not null && !System.IO.File.Exists(FileLocal))
            {
                throw new UsageException($"--file-local {FileLocal}: no such file");
            }
        }
        var o = this with { TotalClients = Worker ? TotalClients : Clients };
        if (o.SourceIps == 0 && o.TotalClients > 20_000 && loopback)
        {
            // One source address gives about 28,000 ephemeral ports; keep well under it per address.
            o = o with { SourceIps = Math.Min(250, (o.TotalClients + 14_999) / 15_000) };
        }
        return o;
    }

    /// <summary>The command line a worker process gets: the same run, a share of the clients and of the ramp.</summary>
    public IReadOnlyList<string> ToWorkerArgs(int clients, int offset, double ramp)
    {
        var args = new List<string>
        {
            "--worker",
            "--host", Host.ToString(),
            "--port", string.Join(',', Ports),
            "--scenario", Scenario.ToString().ToLowerInvariant(),
            "--framing", Framing.ToString().ToLowerInvariant(),
            "--clients", clients.ToString(CultureInfo.InvariantCulture),
            "--client-offset", offset.ToString(CultureInfo.InvariantCulture),
            "--total-clients", TotalClients.ToString(CultureInfo.InvariantCulture),
            "--ramp", ramp.ToString("R", CultureInfo.InvariantCulture),
            "--duration", Ms(Duration),
            "--warmup", Ms(Warmup),
            "--ramp-timeout", Ms(EffectiveRampTimeout),
            "--drain", Ms(Drain),
            "--timeout", Ms(Timeout),
            "--handshake-timeout", Ms(HandshakeTimeout),
            "--payload", Payload.ToString(CultureInfo.InvariantCulture),
            "--pipeline", Pipeline.ToString(CultureInfo.InvariantCulture),
            "--heartbeat", Ms(Heartbeat),
            "--source-ips", SourceIps.ToString(CultureInfo.InvariantCulture),
            "--max-connecting", MaxConnecting.ToString(CultureInfo.InvariantCulture),
            "--name-prefix", NamePrefix,
            "--mix", string.Join(',', Mix.Select(kv => $"{kv.Key.ToString().ToLowerInvariant()}={kv.Value}")),
            "--no-live",
        };
        if (File is not null)
        {
            args.AddRange(["--file", File]);
        }
        if (FileLocal is not null)
        {
            args.AddRange(["--file-local", Path.GetFullPath(FileLocal)]);
        }
        if (FileSha256 is not null)
        {
            args.AddRange(["--file-sha256", FileSha256]);
        }
        if (Reconnect)
        {
            args.Add("--reconnect");
        }
        if (AllowNetwork is { } network)
        {
            args.AddRange(["--allow-network", network.ToString()]);
        }
        return args;

        static string Ms(TimeSpan t) => ((long)t.TotalMilliseconds).ToString(CultureInfo.InvariantCulture) + "ms";
    }

    private static IPAddress ParseHost(string text)
    {
        var address = text.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(text, out var parsed) ? parsed
            : throw new UsageException($"--host {text}: give an IPv4 address in 127.0.0.0/8");
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }
        if (address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new UsageException($"--host {text}: refused, IPv4 targets only");
        }
        return address;
    }

    /// <summary>An address of this machine for the cluster endpoint (not a load target, so not limited to loopback).</summary>
    public static string ParseBindAddress(string text, string flag) =>
        IPAddress.TryParse(text, out var address) && address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork
            ? address.ToString()
            : throw new UsageException($"{flag} {text}: expected an IPv4 address of this machine");

    private static readonly IPNetwork[] PrivateNetworks =
        [IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16")];

    /// <summary>A network inside the private ranges only: test networks are made there, and nobody's server lives in them publicly.</summary>
    private static IPNetwork ParseNetwork(string text)
    {
        if (!IPNetwork.TryParse(text, out var network) || network.BaseAddress.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork)
        {
            throw new UsageException($"--allow-network {text}: expected an IPv4 network such as 10.77.0.0/24");
        }
        if (!PrivateNetworks.Any(p => p.PrefixLength <= network.PrefixLength && p.Contains(network.BaseAddress)))
        {
            throw new UsageException($"--allow-network {text}: refused, only networks inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16");
        }
        return network;
    }

    private static IReadOnlyDictionary<Scenario, int> ParseMix(string text)
    {
        var mix = new Dictionary<Scenario, int>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            var scenario = ParseEnum<Scenario>(kv[0], "--mix");
            if (scenario == Scenario.Mixed || kv.Length != 2)
            {
                throw new UsageException($"--mix {text}: expected name=weight pairs such as idle=60,echo=40");
            }
            mix[scenario] = ParseInt(kv[1], "--mix", 0, 1_000_000);
        }
        if (mix.Values.Sum() == 0)
        {
            throw new UsageException("--mix: the weights add up to 0");
        }
        return mix;
    }

    private static IReadOnlyList<T> ParseList<T>(string text, string flag, Func<string, T> parse) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) is { Length: > 0 } parts
            ? parts.Select(parse).ToArray()
            : throw new UsageException($"{flag} needs at least one value");

    private static T ParseEnum<T>(string text, string flag) where T : struct, Enum =>
        Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value)
            ? value
            : throw new UsageException($"{flag} {text}: expected one of {string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant()))}");

    public static int ParseInt(string text, string flag, int min, int max) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new UsageException($"{flag} {text}: expected a whole number from {min} to {max}");

    private static double ParseDouble(string text, string flag) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) && double.IsFinite(value)
            ? value
            : throw new UsageException($"{flag} {text}: expected a number");

    /// <summary>HOCON-style durations: 250ms, 30s, 2m, 1h; a bare number is seconds.</summary>
    public static TimeSpan ParseDuration(string text, string flag, bool allowZero = false)
    {
        var (number, unit) = text.EndsWith("ms", StringComparison.Ordinal) ? (text[..^2], 0.001)
            : text.EndsWith('s') ? (text[..^1], 1.0)
            : text.EndsWith('m') ? (text[..^1], 60.0)
            : text.EndsWith('h') ? (text[..^1], 3600.0)
            : (text, 1.0);
        if (!double.TryParse(number, NumberStyles.Float, CultureInfo.InvariantCulture, out var value)
            || !double.IsFinite(value) || value < 0 || (value == 0 && !allowZero) || value * unit > 86_400)
        {
            throw new UsageException($"{flag} {text}: expected a duration such as 500ms, 30s or 2m");
        }
        return TimeSpan.FromSeconds(value * unit);
    }
}

internal sealed class UsageException(string? message) : Exception(message ?? "");
