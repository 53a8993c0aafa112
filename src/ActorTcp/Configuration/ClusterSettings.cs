// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using Akka.Configuration;

namespace ActorTcp.Configuration;

/// <summary>One seed node, as <c>host:port</c>.</summary>
internal sealed record SeedNode(string Host, int Port)
{
    public override string ToString() => Host.Contains(':') ? $"[{Host}]:{Port}" : $"{Host}:{Port}";
}

/// <summary>
/// The <c>actor-tcp.cluster</c> block: present (non-null in <see cref="ServerSettings.Cluster"/>) only when a cluster
/// port is given, so that a server alone starts no remoting at all.
/// </summary>
internal sealed record ClusterSettings
{
    public const string Section = "cluster";

    /// <summary>The address this node binds its cluster port on and gives to the others.</summary>
    public required string Host { get; init; }

    /// <summary>The cluster port; 0 = any free port (the listening line tells which).</summary>
    public required int Port { get; init; }

    /// <summary>Empty: this node forms a new cluster by itself.</summary>
    public required IReadOnlyList<SeedNode> SeedNodes { get; init; }

    /// <summary>How long WHO, NODES and STATS wait for the members; they always answer within this plus one second.</summary>
    public required TimeSpan AskTimeout { get; init; }

    /// <summary>
    /// Reads and validates the block whether or not the cluster is on (a bad value is refused either way); returns null
    /// when <c>port = off</c>. <paramref name="host"/> is the listeners' host, the default of <c>cluster.host</c>.
    /// </summary>
    public static ClusterSettings? FromConfig(Config section, string host)
    {
        // A configuration without the block (an older overlay used on its own) is a server alone.
        if (!section.HasPath(Section)) return null;
        var c = section.GetConfig(Section);
        var port = PortOrOff(c);
        var seeds = Seeds(c);
        var askTimeout = AskTimeoutFrom(c);
        if (port is null) return null;

        var clusterHost = c.GetString("host", "")?.Trim();
        var key = "cluster.host";
        if (string.IsNullOrEmpty(clusterHost))
        {
            clusterHost = host;
            key = "cluster.host (taken from host)";
        }
        if (IPAddress.TryParse(clusterHost, out var ip) && (ip.Equals(IPAddress.Any) || ip.Equals(IPAddress.IPv6Any)))
            throw new SettingsException(
                $"{key}: '{clusterHost}' is a wildcard; the other nodes need an address they can reach: set cluster.host to this node's own address");
        if (ip is null && Uri.CheckHostName(clusterHost) != UriHostNameType.Dns)
            throw new SettingsException($"{key}: '{clusterHost}' is neither an IP address nor a host name");

        return new ClusterSettings { Host = clusterHost, Port = port.Value, SeedNodes = seeds, AskTimeout = askTimeout };
    }

    private static int? PortOrOff(Config c)
    {
        var raw = c.GetString("port", "off")?.Trim() ?? "off";
        if (raw.Equals("off", StringComparison.OrdinalIgnoreCase) || raw.Equals("false", StringComparison.OrdinalIgnoreCase)) return null;
        if (!int.TryParse(raw, out var port) || port is < 0 or > 65535)
            throw new SettingsException($"cluster.port: '{raw}' is neither off nor a port (0-65535)");
        return port;
    }

    private static IReadOnlyList<SeedNode> Seeds(Config c)
    {
        IList<string> raw;
        try { raw = c.HasPath("seed-nodes") ? c.GetStringList("seed-nodes") : []; }
        catch (Exception) { throw new SettingsException("cluster.seed-nodes: not a list of \"host:port\" strings"); }
        var seeds = new List<SeedNode>(raw.Count);
        foreach (var entry in raw) seeds.Add(ParseSeed(entry));
        return seeds;
    }

    /// <summary><c>host:port</c>, an IPv6 host in brackets (<c>[::1]:4053</c>).</summary>
    public static SeedNode ParseSeed(string entry)
    {
        var text = entry.Trim();
        var colon = text.LastIndexOf(':');
        var bad = new SettingsException($"cluster.seed-nodes: '{entry}' is not host:port (e.g. 10.0.0.1:4053)");
        if (colon <= 0 || !int.TryParse(text[(colon + 1)..], out var port) || port is < 1 or > 65535) throw bad;
        var host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (!IPAddress.TryParse(host, out _) && Uri.CheckHostName(host) != UriHostNameType.Dns) throw bad;
        return new SeedNode(host, port);
    }

    private static TimeSpan AskTimeoutFrom(Config c)
    {
        var raw = c.GetString("ask-timeout", "")?.Trim();
        TimeSpan value;
        try { value = c.GetTimeSpan("ask-timeout", allowInfinite: false); }
        catch (Exception) { throw new SettingsException($"cluster.ask-timeout: '{raw}' is not a duration (e.g. 500ms, 2s)"); }
        if (value <= TimeSpan.Zero) throw new SettingsException($"cluster.ask-timeout: '{raw}' must be above zero");
        return value;
    }
}
