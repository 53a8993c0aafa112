// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;

namespace ActorTcp.LoadTest.Options;

/// <summary>
/// <c>ActorTcp.LoadTest worker --join HOST:PORT</c>: a process that joins a coordinator's cluster and runs the share of
/// the clients it is given. Everything about the run itself comes from the coordinator.
/// </summary>
internal sealed record WorkerOptions
{
    public const string Command = "worker";

    /// <summary>The coordinator's cluster endpoint.</summary>
    public required string JoinHost { get; init; }
    public required int JoinPort { get; init; }
    /// <summary>How the coordinator and its report call this worker; unique within a run.</summary>
    public string Name { get; init; } = $"{Environment.MachineName}-{Environment.ProcessId}";
    /// <summary>This worker's own cluster endpoint: the address the coordinator reaches it at.</summary>
    public string ClusterHost { get; init; } = "127.0.0.1";
    public int ClusterPort { get; init; }
    /// <summary>How long the worker waits to be given its share before it gives up.</summary>
    public TimeSpan JoinTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public const string Usage = """
        ActorTcp.LoadTest worker: runs a share of a load run that a coordinator (the ActorTcp.LoadTest command with
        --workers M) divides among its workers; the coordinator prints the HOST:PORT to join.

          ActorTcp.LoadTest worker --join 10.0.0.5:4070 --cluster-host 10.0.0.6

        --join HOST:PORT       the coordinator's cluster endpoint                        (required)
        --name NAME            this worker's name in the run's report                    [machine-pid]
        --cluster-host ADDR    this worker's address, reachable from the coordinator     [127.0.0.1]
        --cluster-port P       this worker's cluster port; 0 = any free port             [0]
        --join-timeout T       give up when no run has been assigned after T             [120s]

        A worker stops by itself when its run ends, when it has not heard from its coordinator for 10 s, or at its
        hard bound (ramp timeout + warm-up + duration + drain + 30 s from its assignment).
        Exit code: 0 the run ended, 2 bad arguments or refused by the coordinator, 3 hard bound, 4 lost the coordinator.
        """;

    public static WorkerOptions Parse(IReadOnlyList<string> args)
    {
        string? host = null;
        var port = 0;
        var o = new WorkerOptions { JoinHost = "", JoinPort = 0 };
        for (var i = 0; i < args.Count; i++)
        {
            var flag = args[i];
            string Next() => i + 1 < args.Count ? args[++i] : throw new UsageException($"{flag} needs a value");
            switch (flag)
            {
                case "--join":
                    var text = Next();
                    var colon = text.LastIndexOf(':');
                    if (colon <= 0 || !int.TryParse(text[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535)
                    {
                        throw new UsageException($"--join {text}: expected HOST:PORT, e.g. 127.0.0.1:4070");
                    }
                    host = LoadOptions.ParseBindAddress(text[..colon], flag);
                    break;
                case "--name":
                    var name = Next();
                    o = o with { Name = name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') ? name : throw new UsageException($"--name {name}: letters, digits, '-', '_' and '.' only, at most 64") };
                    break;
                case "--cluster-host":
                    o = o with { ClusterHost = LoadOptions.ParseBindAddress(Next(), flag) };
                    break;
                case "--cluster-port":
                    o = o with { ClusterPort = LoadOptions.ParseInt(Next(), flag, 0, 65535) };
                    break;
                case "--join-timeout":
                    o = o with { JoinTimeout = LoadOptions.ParseDuration(Next(), flag) };
                    break;
                case "-h" or "--help":
                    throw new UsageException(null);
                default:
                    throw new UsageException($"unknown worker flag {flag}");
            }
        }
        return host is null ? throw new UsageException("worker needs --join HOST:PORT") : o with { JoinHost = host, JoinPort = port };
    }
}
