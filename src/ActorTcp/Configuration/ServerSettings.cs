// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Text;
using ActorTcp.Protocol;
using Akka.Configuration;

namespace ActorTcp.Configuration;

/// <summary>The <c>actor-tcp</c> section of the configuration, parsed and validated once at start.</summary>
internal sealed record ServerSettings
{
    public const string Section = "actor-tcp";

    /// <summary>The largest reserve of descriptors kept back for the process (see <see cref="DescriptorReserve"/>).</summary>
    public const int ProcessDescriptorReserve = 500;

    /// <summary>The smallest reserve: what the runtime holds at rest, with room for refused sockets and threads.</summary>
    public const int MinimumDescriptorReserve = 256;

    public required string Host { get; init; }
    public required int Port { get; init; }
    /// <summary>Null when the binary listener is off.</summary>
    public required int? BinaryPort { get; init; }
    public required string FilesRoot { get; init; }
    public required int MaxLineBytes { get; init; }
    public required int MaxFrameBytes { get; init; }
    public required TimeSpan IdleTimeout { get; init; }
    public required TimeSpan HandshakeTimeout { get; init; }
    public required TimeSpan HeartbeatTick { get; init; }
    public required int MaxConnections { get; init; }
    public required bool MaxConnectionsIsAuto { get; init; }
    /// <summary>What the configuration asked for, when the descriptor limit held max-connections below it.</summary>
    public int? MaxConnectionsRequested { get; init; }
    public required int MaxConnectionsPerIp { get; init; }
    public required int MaxDownloads { get; init; }
    public required int MaxListEntries { get; init; }
    public required int MaxPendingWriteBytes { get; init; }
    public required int Backlog { get; init; }
    public required bool ReuseAddress { get; init; }
    public required TimeSpan DrainTimeout { get; init; }
    public required TimeSpan CloseLinger { get; init; }
    public required bool CrlfReplies { get; init; }
    public required Encoding TextEncoding { get; init; }
    public required long DescriptorLimit { get; init; }

    /// <summary>Sockets whose session is over and that wait for the client's FIN; past it the oldest is closed at once.</summary>
    public required int MaxLingering { get; init; }

    /// <summary>The UDP endpoint's port (0 = any free port); null when it is off.</summary>
    public required int? UdpPort { get; init; }

    /// <summary>Datagrams one source address may send per one-second window; the rest of that second's are dropped.</summary>
    public required int UdpMaxPerSecond { get; init; }

    /// <summary>Source addresses the UDP rate table holds at once; when full, datagrams from new addresses are dropped.</summary>
    public required int UdpMaxAddresses { get; init; }

    /// <summary>The TLS listener's port (0 = any free port); null when it is off.</summary>
    public required int? TlsPort { get; init; }

    /// <summary>PEM files of the TLS listener's certificate chain and key; both set whenever <see cref="TlsPort"/> is.</summary>
    public required string? TlsCertificate { get; init; }

    public required string? TlsKey { get; init; }
    /// <summary>The port of the Prometheus endpoint; null when it is off.</summary>
    public int? MetricsPort { get; init; }

    /// <summary>Clients whose sessions log every byte both ways; empty (the default) traces nobody.</summary>
    public IReadOnlyList<System.Net.IPNetwork> TraceAddresses { get; init; } = [];

    /// <summary>Bytes traced per connection, both directions together; past it the trace of that connection stops.</summary>
    public int TraceMaxBytes { get; init; } = 64 * 1024;
    /// <summary>Cluster mode, or null for a server alone (no cluster port: no remoting is started).</summary>
    public ClusterSettings? Cluster { get; init; }

    /// <summary>Parses and validates; throws <see cref="SettingsException"/> with a one-line message naming the key.</summary>
    public static ServerSettings FromConfig(Config root, long? descriptorLimit = null)
    {
        var c = root.GetConfig(Section) ?? throw new SettingsException($"the configuration has no '{Section}' section");
        var limit = descriptorLimit ?? DescriptorLimits.Current();
        var maxDownloads = PositiveInt(c, "max-downloads");
        var (maxConnections, auto, requested) = MaxConnectionsFrom(c, limit, maxDownloads);
        var host = Text(c, "host");
        if (!System.Net.IPAddress.TryParse(host, out _) && host != "localhost")
            throw new SettingsException($"host: '{host}' is not an IP address (e.g. 127.0.0.1, 0.0.0.0, ::1)");

        var tlsPort = OptionalPort(c, "tls-port");
        var tlsCertificate = OptionalText(c, "tls-certificate");
        var tlsKey = OptionalText(c, "tls-key");
        if (tlsPort is not null && (tlsCertificate is null || tlsKey is null))
            throw new SettingsException("tls-port: the TLS listener needs both tls-certificate and tls-key (PEM files)");

        return new ServerSettings
        {
            Host = host,
            Port = PortNumber(c, "port"),
            BinaryPort = OptionalPort(c, "binary-port"),
            FilesRoot = Text(c, "files-root"),
            MaxLineBytes = PositiveInt(c, "max-line-bytes"),
            MaxFrameBytes = PositiveInt(c, "max-frame-bytes"),
            IdleTimeout = PositiveDuration(c, "idle-timeout"),
            HandshakeTimeout = PositiveDuration(c, "handshake-timeout"),
            HeartbeatTick = PositiveDuration(c, "heartbeat-tick"),
            MaxConnections = maxConnections,
            MaxConnectionsIsAuto = auto,
            MaxConnectionsRequested = requested,
            MaxConnectionsPerIp = NonNegativeInt(c, "max-connections-per-ip"),
            MaxDownloads = maxDownloads,
            MaxListEntries = PositiveInt(c, "max-list-entries"),
            MaxPendingWriteBytes = (int)Math.Min(int.MaxValue, PositiveBytes(c, "max-pending-write-bytes")),
            Backlog = PositiveInt(c, "backlog"),
            ReuseAddress = Flag(c, "reuse-address"),
            DrainTimeout = PositiveDuration(c, "drain-timeout"),
            CloseLinger = PositiveDuration(c, "close-linger"),
            CrlfReplies = LineEnding(c, "reply-line-ending"),
            TextEncoding = EncodingFrom(c, "text-encoding"),
            DescriptorLimit = limit,
            MaxLingering = MaxLingeringFrom(c, limit),
            UdpPort = OptionalPort(c, "udp-port"),
            UdpMaxPerSecond = PositiveInt(c, "udp-max-per-second"),
            UdpMaxAddresses = PositiveInt(c, "udp-max-addresses"),
            TlsPort = tlsPort,
            TlsCertificate = tlsCertificate,
            TlsKey = tlsKey,
            MetricsPort = c.HasPath("metrics-port") ? OptionalPort(c, "metrics-port") : null,
            TraceAddresses = c.HasPath("trace-addresses") ? Networks(c, "trace-addresses") : [],
            TraceMaxBytes = c.HasPath("trace-max-bytes")
                ? (int)Math.Min(int.MaxValue, PositiveBytes(c, "trace-max-bytes"))
                : 64 * 1024,
            Cluster = ClusterSettings.FromConfig(c, host),
        };
    }

    /// <summary>
    /// Descriptors kept back for the process: the runtime needs some of its own (it cannot even start a thread
    /// without one, and dies "out of memory" when it cannot), plus log files, listeners and refused sockets.
    /// The runtime alone holds about 190 (every loaded assembly stays open). 500 on a 20,000-descriptor machine,
    /// never under 256.
    /// </summary>
    public static long DescriptorReserve(long limit) => Math.Clamp(limit / 10, MinimumDescriptorReserve, ProcessDescriptorReserve);

    /// <returns>The connections to hold, whether that was `auto`, and what was asked for when it did not fit.</returns>
    private static (int Value, bool Auto, int? Requested) MaxConnectionsFrom(Config c, long limit, int maxDownloads)
    {
        var raw = Text(c, "max-connections");
        var room = limit - maxDownloads - DescriptorReserve(limit);
        if (room < 1)
            throw new SettingsException(
                $"max-connections: the descriptor limit {limit} leaves no room after max-downloads {maxDownloads} and a reserve of {DescriptorReserve(limit)}; lower max-downloads");
        if (raw.Equals("auto", StringComparison.OrdinalIgnoreCase)) return ((int)Math.Min(int.MaxValue, room), true, null);
        if (!int.TryParse(raw, out var n) || n < 1)
            throw new SettingsException($"max-connections: '{raw}' is neither 'auto' nor a whole number above 0");
        // More connections than descriptors would let clients starve the runtime itself: hold to what fits.
        return n <= room ? (n, false, null) : ((int)room, false, n);
    }

    private static string Text(Config c, string key)
    {
        string? value;
        try { value = c.GetString(key); }
        catch (Exception e) { throw new SettingsException($"{key}: {e.Message}"); }
        if (string.IsNullOrWhiteSpace(value)) throw new SettingsException($"{key}: missing or empty");
        return value.Trim();
    }

    /// <summary>A string that may be left empty (the key unset).</summary>
    private static string? OptionalText(Config c, string key)
    {
        var value = c.HasPath(key) ? c.GetString(key) : null;
        return string.IsNullOrWhiteSpace(value) ? null : value.Trim();
    }

    private static int PositiveInt(Config c, string key) => IntIn(c, key, 1, int.MaxValue, "a whole number above 0");

    private static int NonNegativeInt(Config c, string key) => IntIn(c, key, 0, int.MaxValue, "a whole number (0 or more)");

    private static int PortNumber(Config c, string key) => IntIn(c, key, 0, 65535, "a port (0-65535)");

    private static int IntIn(Config c, string key, int min, int max, string what)
    {
        var raw = Text(c, key);
        if (!int.TryParse(raw, out var n) || n < min || n > max) throw new SettingsException($"{key}: '{raw}' is not {what}");
        return n;
    }

    private static int? OptionalPort(Config c, string key)
    {
        var raw = Text(c, key);
        return raw.Equals("off", StringComparison.OrdinalIgnoreCase) || raw.Equals("false", StringComparison.OrdinalIgnoreCase)
            ? null
            : PortNumber(c, key);
    }

    private static TimeSpan PositiveDuration(Config c, string key)
    {
        var raw = Text(c, key);
        TimeSpan value;
        try { value = c.GetTimeSpan(key, allowInfinite: false); }
        catch (Exception) { throw new SettingsException($"{key}: '{raw}' is not a duration (e.g. 250ms, 30s, 2m)"); }
        if (value <= TimeSpan.Zero) throw new SettingsException($"{key}: '{raw}' must be above zero");
        return value;
    }

    private static long PositiveBytes(Config c, string key)
    {
        var raw = Text(c, key);
        long? value;
        try { value = c.GetByteSize(key); }
        catch (Exception) { throw new SettingsException($"{key}: '{raw}' is not a size (e.g. 65536, 64KiB, 1MiB)"); }
        if (value is not > 0) throw new SettingsException($"{key}: '{raw}' must be above zero");
        return value.Value;
    }

    private static bool Flag(Config c, string key)
    {
        var raw = Text(c, key).ToLowerInvariant();
        return raw switch
        {
            "on" or "true" or "yes" => true,
            "off" or "false" or "no" => false,
            _ => throw new SettingsException($"{key}: '{raw}' is not on/off"),
        };
    }

    private static bool LineEnding(Config c, string key)
    {
        var raw = Text(c, key).ToLowerInvariant();
        return raw switch
        {
            "lf" => false,
            "crlf" => true,
            _ => throw new SettingsException($"{key}: '{raw}' is neither lf nor crlf"),
        };
    }

    /// <summary>`auto`: a quarter of the process's descriptor reserve (125 with 20,000 descriptors), or a number (0 = none).</summary>
    private static int MaxLingeringFrom(Config c, long limit)
    {
        var raw = Text(c, "max-lingering");
        if (raw.Equals("auto", StringComparison.OrdinalIgnoreCase)) return (int)(DescriptorReserve(limit) / 4);
        if (!int.TryParse(raw, out var n) || n < 0)
            throw new SettingsException($"max-lingering: '{raw}' is neither 'auto' nor a whole number (0 or more)");
        return n;
    }

    /// <summary>A list of addresses (<c>10.0.0.7</c>, <c>::1</c>) and CIDR blocks (<c>10.0.0.0/8</c>).</summary>
    private static System.Net.IPNetwork[] Networks(Config c, string key)
    {
        IList<string> items;
        try
        {
            items = c.GetValue(key) is { } value && value.IsString()
                ? value.GetString().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                : c.GetStringList(key);
        }
        catch (Exception e) when (e is not SettingsException)
        {
            throw new SettingsException($"{key}: not a list of addresses or CIDR blocks ({e.Message})");
        }
        var networks = new System.Net.IPNetwork[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i].Trim();
            if (System.Net.IPAddress.TryParse(item, out var address) && !item.Contains('/'))
                networks[i] = new System.Net.IPNetwork(address, address.GetAddressBytes().Length * 8);
            else if (!System.Net.IPNetwork.TryParse(item, out networks[i]))
                throw new SettingsException($"{key}: '{item}' is neither an address nor a CIDR block (e.g. 127.0.0.1, 10.0.0.0/8)");
        }
        return networks;
    }

    private static Encoding EncodingFrom(Config c, string key)
    {
        var raw = Text(c, key);
        try { return TextEncodings.Resolve(raw); }
        catch (ArgumentException e) { throw new SettingsException($"{key}: {e.Message}"); }
    }
}

/// <summary>A setting or flag that cannot be used; its message is the one line the user sees.</summary>
internal sealed class SettingsException(string message) : Exception(message);
