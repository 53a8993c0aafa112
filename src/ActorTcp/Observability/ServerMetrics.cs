// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics.Metrics;
using ActorTcp.Sessions;

namespace ActorTcp.Observability;

/// <summary>
/// The <c>ActorTcp</c> meter (docs/PROTOCOL.md, "Metrics"). Instrument names follow OpenTelemetry's conventions
/// (as Kestrel's <c>kestrel.active_connections</c> do) and come out as the contract's Prometheus series:
/// <c>actortcp.accepted_connections</c> with unit <c>{connection}</c> is <c>actortcp_accepted_connections_total</c>,
/// <c>actortcp.connection.duration</c> in <c>s</c> is <c>actortcp_connection_duration_seconds</c>.
/// </summary>
/// <remarks>
/// Every instrument but the duration histogram is observable: it reads the <see cref="ServerStats"/> counters that
/// STATS reads, when a reader collects, so the hot path records nothing at all for metrics and the two can never
/// disagree. With no reader attached (no exporter, no dotnet-counters) an observable instrument costs nothing.
/// The histogram is recorded once per connection, by the listener, when the session ends.
/// </remarks>
internal sealed class ServerMetrics : IDisposable
{
    public const string MeterName = "ActorTcp";

    /// <summary>Seconds; Kestrel's connection-duration bounds stretched to the hours a chat client may stay.</summary>
    private static readonly double[] DurationBuckets = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];

    private static readonly KeyValuePair<string, object?>[][] ListenerTags =
        Array.ConvertAll(ListenerKinds.All, kind => Tag("listener", ListenerKinds.Label(kind)));

    private static readonly KeyValuePair<string, object?>[][] ReasonTags =
        Array.ConvertAll(CloseReasons.All, reason => Tag("reason", CloseReasons.Label(reason)));

    private readonly Meter _meter;
    private readonly Histogram<double> _duration;

    /// <param name="factory">The host's meter factory, so the meter lives and dies with the host's services.</param>
    /// <param name="stats">The counters STATS reads.</param>
    /// <param name="downloads">Transfers running now.</param>
    /// <param name="maxConnections">The max-connections in force, for "how full" alerts.</param>
    /// <param name="descriptorLimit">The process's descriptor limit, for "descriptor headroom" alerts.</param>
    public ServerMetrics(IMeterFactory factory, ServerStats stats, Func<int> downloads, int maxConnections, long descriptorLimit)
    {
        _meter = factory.Create(new MeterOptions(MeterName) { Version = stats.Version });
        var m = _meter;

        m.CreateObservableUpDownCounter("actortcp.active_connections", () => PerListener(stats.ConnectionsOn),
            "{connection}", "Admitted clients connected now, per listener (as STATS connections)");
        m.CreateObservableCounter("actortcp.accepted_connections", () => PerListener(stats.AcceptedOn),
            "{connection}", "Clients admitted since start, per listener (as STATS accepted)");
        m.CreateObservableCounter("actortcp.rejected_connections", () => PerReason(CloseReasons.Refusals, stats.Refused),
            "{connection}", "Clients refused at accept since start, per reason (as STATS rejected); never counted as closed");
        m.CreateObservableCounter("actortcp.closed_connections", () => PerReason(CloseReasons.Ends, stats.Ended),
            "{connection}", "Admitted clients whose connection ended since start, per close reason");
        m.CreateObservableCounter("actortcp.requests", () => stats.Requests,
            "{request}", "Requests answered since start, all sessions (as STATS requests)");
        m.CreateObservableUpDownCounter("actortcp.lingering_connections", () => stats.Lingering,
            "{connection}", "Connections whose session is over, waiting for the client's FIN (as STATS lingering)");
        m.CreateObservableUpDownCounter("actortcp.active_downloads", () => (long)downloads(),
            "{download}", "File transfers running now (as STATS downloads)");
        m.CreateObservableCounter("actortcp.received_bytes", () => stats.BytesIn,
            "By", "Bytes received from clients since start (as STATS bytes_in)");
        m.CreateObservableCounter("actortcp.sent_bytes", () => stats.BytesOut,
            "By", "Bytes given to the transport for clients since start (as STATS bytes_out)");
        m.CreateObservableGauge("actortcp.max_connections", () => (long)maxConnections,
            "{connection}", "The max-connections in force: past it new clients are refused as server_full");
        m.CreateObservableGauge("actortcp.max_descriptors", () => descriptorLimit,
            "{descriptor}", "The process's open-file limit (RLIMIT_NOFILE)");
        m.CreateObservableGauge("actortcp.open_descriptors", OpenDescriptors,
            "{descriptor}", "Descriptors the process holds now (sockets, files, the runtime's own)");
        _duration = m.CreateHistogram("actortcp.connection.duration", "s",
            "How long admitted clients stayed, from accept to the end of their session",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = DurationBuckets });
    }

    /// <summary>Called by the listener, once per admitted connection, when its session ends.</summary>
    public void ConnectionEnded(TimeSpan duration) => _duration.Record(duration.TotalSeconds);

    public void Dispose() => _meter.Dispose();

    private static KeyValuePair<string, object?>[] Tag(string key, string value) => [new(key, value)];

    private static Measurement<long>[] PerListener(Func<ListenerKind, long> read)
    {
        var all = ListenerKinds.All;
        var measurements = new Measurement<long>[all.Length];
        for (var i = 0; i < all.Length; i++) measurements[i] = new Measurement<long>(read(all[i]), ListenerTags[(int)all[i]]);
        return measurements;
    }

    private static Measurement<long>[] PerReason(CloseReason[] reasons, Func<CloseReason, long> read)
    {
        var measurements = new Measurement<long>[reasons.Length];
        for (var i = 0; i < reasons.Length; i++)
            measurements[i] = new Measurement<long>(read(reasons[i]), ReasonTags[(int)reasons[i]]);
        return measurements;
    }

    /// <summary>Counted from /proc when a reader collects (Linux); nothing elsewhere.</summary>
    private static IEnumerable<Measurement<long>> OpenDescriptors()
    {
        const string fds = "/proc/self/fd";
        if (!Directory.Exists(fds)) return [];
        try
        {
            return [new Measurement<long>(Directory.EnumerateFileSystemEntries(fds).LongCount())];
        }
        catch (IOException)
        {
            return [];
        }
    }
}
