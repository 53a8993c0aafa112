// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Server;

/// <summary>The command line: a few flags for the common settings, each turned into a HOCON override.</summary>
internal sealed record ServerOptions(bool Help, bool Version, string? ConfigFile, IReadOnlyList<string> Overrides)
{
    /// <summary>Flag → the <c>actor-tcp</c> key it sets.</summary>
    private static readonly Dictionary<string, string> Flags = new(StringComparer.Ordinal)
    {
        ["--host"] = "host",
        ["--port"] = "port",
        ["--binary-port"] = "binary-port",
        ["--files"] = "files-root",
        ["--idle-timeout"] = "idle-timeout",
        ["--max-connections"] = "max-connections",
        ["--udp-port"] = "udp-port",
        ["--tls-port"] = "tls-port",
        ["--tls-cert"] = "tls-certificate",
        ["--tls-key"] = "tls-key",
        ["--metrics-port"] = "metrics-port",
        ["--cluster-port"] = "cluster.port",
    };

    public const string Usage = """
        ActorTcp: an actor-based TCP server (text and length-prefixed listeners, name dialog, echo, files).

        Usage: ActorTcp.Server [flags]

        Flags:
          --config <file>            HOCON file layered over hocon.conf (any actor-tcp key)
          --host <address>           address both listeners bind      [127.0.0.1; 0.0.0.0 exposes the server]
          --port <port>              text listener port, 0 = any free  [6000]
          --binary-port <port|off>   binary listener port              [6001]
          --files <folder>           folder LIST and GET serve         [config/files]
          --idle-timeout <duration>  close named clients silent this long, e.g. 30s, 2m  [30s]
          --max-connections <n|auto> connections held at once         [auto: descriptor limit - max-downloads - a reserve]
          --udp-port <port|off>      UDP endpoint for PING, ECHO, HEARTBEAT <key>  [off]
          --tls-port <port|off>      TLS listener (text framing inside TLS 1.2/1.3) [off]
          --tls-cert <file>          PEM certificate chain of the TLS listener
          --tls-key <file>           PEM private key of the TLS listener
          --metrics-port <port|off>  Prometheus endpoint, GET /metrics [off]
          --trace <address|cidr>     log every byte of these clients' sessions (repeatable)  [nobody]
          --cluster-port <port|off>  join a cluster on this port, 0 = any free  [off: a server alone]
          --seed <host:port>         a seed node of the cluster (repeat for several)  [none: form a new cluster]
          --version                  print the version
          --help                     print this

        Settings (hocon.conf, section actor-tcp; each documented there):
          host port binary-port files-root max-line-bytes max-frame-bytes idle-timeout handshake-timeout
          heartbeat-tick max-connections max-connections-per-ip max-downloads max-list-entries
          max-pending-write-bytes backlog reuse-address drain-timeout close-linger max-lingering
          udp-port udp-max-per-second udp-max-addresses tls-port tls-certificate tls-key
          metrics-port trace-addresses trace-max-bytes reply-line-ending text-encoding
          cluster { host port seed-nodes ask-timeout }

        When every listener is bound it prints one line (look its keys up by name; later versions may add keys):
          listening text=<h>:<p> binary=<h>:<p>|off tls=<h>:<p>|off udp=<h>:<p>|off cluster=<h>:<p>|off metrics=<h>:<p>|off
        """;

    /// <summary>Parses the arguments; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public static ServerOptions Parse(IReadOnlyList<string> args)
    {
        bool help = false, version = false;
        string? configFile = null;
        var overrides = new List<string>();
        var traced = new List<string>();
        var seeds = new List<string>();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            string? inline = null;
            var eq = arg.IndexOf('=');
            if (arg.StartsWith("--", StringComparison.Ordinal) && eq > 0)
            {
                inline = arg[(eq + 1)..];
                arg = arg[..eq];
            }
            switch (arg)
            {
                case "--help" or "-h":
                    help = true;
                    continue;
                case "--version":
                    version = true;
                    continue;
                case "--config":
                    configFile = inline ?? Next(args, ref i, arg);
                    continue;
                case "--trace":
                    traced.Add(inline ?? Next(args, ref i, arg));
                    continue;
                case "--seed":
                    seeds.Add(inline ?? Next(args, ref i, arg));
                    continue;
            }
            if (!Flags.TryGetValue(arg, out var key)) throw new ArgumentException($"unknown flag '{args[i]}' (try --help)");
            var value = inline ?? Next(args, ref i, arg);
            overrides.Add($"actor-tcp.{key} = {Quote(value)}");
        }
        if (traced.Count > 0) overrides.Add($"actor-tcp.trace-addresses = [{string.Join(", ", traced.Select(Quote))}]");
        if (seeds.Count > 0) overrides.Add($"actor-tcp.cluster.seed-nodes = [{string.Join(", ", seeds.Select(Quote))}]");
        return new ServerOptions(help, version, configFile, overrides);
    }

    private static string Next(IReadOnlyList<string> args, ref int i, string flag)
    {
        if (i + 1 >= args.Count) throw new ArgumentException($"flag {flag} needs a value (try --help)");
        return args[++i];
    }

    // Values become HOCON strings, so nothing a user types can inject other keys.
    private static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
