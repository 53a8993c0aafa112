using System.Diagnostics.Metrics;
using ActorTcp.Observability;
using ActorTcp.Sessions;

namespace ActorTcp.Tests;

/// <summary>The ActorTcp meter read in-process through a MeterListener, as dotnet-counters and exporters read it.</summary>
public sealed class MetricsSpecs : IDisposable
{
    private readonly ServerStats _stats = new("9.9.9", DateTimeOffset.UnixEpoch);
    private readonly OwnFactory _factory = new();
    private readonly ServerMetrics _metrics;
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, Instrument> _instruments = new();
    private readonly List<(string Name, double Value, Dictionary<string, string> Tags)> _seen = new();
    private int _downloads;

    public MetricsSpecs()
    {
        _metrics = new ServerMetrics(_factory, _stats, () => _downloads, maxConnections: 100, descriptorLimit: 20_000);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            // Only this test's meter: other tests may create meters of the same name at the same time.
            if (!_factory.Created.Contains(instrument.Meter)) return;
            _instruments[instrument.Name] = instrument;
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    public void Dispose()
    {
        _listener.Dispose();
        _metrics.Dispose();
    }

    [Fact]
    public void The_meter_is_named_ActorTcp_and_its_instruments_carry_OpenTelemetry_names_and_units()
    {
        var expected = new Dictionary<string, (string Unit, Type Kind)>
        {
            ["actortcp.active_connections"] = ("{connection}", typeof(ObservableUpDownCounter<long>)),
            ["actortcp.accepted_connections"] = ("{connection}", typeof(ObservableCounter<long>)),
            ["actortcp.rejected_connections"] = ("{connection}", typeof(ObservableCounter<long>)),
            ["actortcp.closed_connections"] = ("{connection}", typeof(ObservableCounter<long>)),
            ["actortcp.requests"] = ("{request}", typeof(ObservableCounter<long>)),
            ["actortcp.lingering_connections"] = ("{connection}", typeof(ObservableUpDownCounter<long>)),
            ["actortcp.active_downloads"] = ("{download}", typeof(ObservableUpDownCounter<long>)),
            ["actortcp.received_bytes"] = ("By", typeof(ObservableCounter<long>)),
            ["actortcp.sent_bytes"] = ("By", typeof(ObservableCounter<long>)),
            ["actortcp.connection.duration"] = ("s", typeof(Histogram<double>)),
            ["actortcp.max_connections"] = ("{connection}", typeof(ObservableGauge<long>)),
            ["actortcp.max_descriptors"] = ("{descriptor}", typeof(ObservableGauge<long>)),
            ["actortcp.open_descriptors"] = ("{descriptor}", typeof(ObservableGauge<long>)),
        };
        Assert.Equal(expected.Keys.Order(), _instruments.Keys.Order());
        foreach (var (name, instrument) in _instruments)
        {
            Assert.Equal("ActorTcp", instrument.Meter.Name);
            Assert.Equal(expected[name].Unit, instrument.Unit);
            Assert.IsType(expected[name].Kind, instrument);
            Assert.False(string.IsNullOrWhiteSpace(instrument.Description), name + " has no description (Prometheus HELP)");
        }
        Assert.Same(_factory, _instruments["actortcp.requests"].Meter.Scope);
    }

    [Fact]
    public void Connections_are_labelled_by_listener_and_read_the_counters_STATS_reads()
    {
        _stats.ConnectionOpened(ListenerKind.Text);
        _stats.ConnectionOpened(ListenerKind.Text);
        _stats.ConnectionOpened(ListenerKind.Binary);
        _stats.ConnectionEnded(ListenerKind.Text, CloseReason.Quit);

        Collect();
        Assert.Equal(1, Value("actortcp.active_connections", ("listener", "text")));
        Assert.Equal(1, Value("actortcp.active_connections", ("listener", "binary")));
        Assert.Equal(2, Value("actortcp.accepted_connections", ("listener", "text")));
        Assert.Equal(1, Value("actortcp.accepted_connections", ("listener", "binary")));
        Assert.Equal(1, Value("actortcp.closed_connections", ("reason", "quit")));
        var stats = _stats.Format(DateTimeOffset.UnixEpoch, 0);
        Assert.Contains(" connections=2 accepted=3 ", stats);
        Assert.Contains(" closed_quit=1", stats);
    }

    [Fact]
    public void A_refused_client_is_counted_as_rejected_with_its_reason_and_never_as_closed()
    {
        _stats.ConnectionRefused(CloseReason.ServerFull);
        _stats.ConnectionRefused(CloseReason.PerIpLimit);
        _stats.ConnectionRefused(CloseReason.Shutdown);
        _stats.ConnectionOpened(ListenerKind.Text);
        _stats.ConnectionEnded(ListenerKind.Text, CloseReason.Shutdown);

        Collect();
        Assert.Equal(1, Value("actortcp.rejected_connections", ("reason", "server_full")));
        Assert.Equal(1, Value("actortcp.rejected_connections", ("reason", "per_ip_limit")));
        Assert.Equal(1, Value("actortcp.rejected_connections", ("reason", "shutdown")));
        Assert.Equal(1, Value("actortcp.closed_connections", ("reason", "shutdown")));
        Assert.DoesNotContain(Measurements("actortcp.closed_connections"), m => m.Tags["reason"] is "server_full" or "per_ip_limit");
        Assert.Equal(0, Measurements("actortcp.closed_connections").Where(m => m.Tags["reason"] != "shutdown").Sum(m => m.Value));
        // STATS keeps its own meaning: closed_<reason> counts refusals too, rejected counts them all.
        var stats = _stats.Format(DateTimeOffset.UnixEpoch, 0);
        Assert.Contains(" rejected=3 ", stats);
        Assert.Contains(" closed_server_full=1", stats);
        Assert.Contains(" closed_shutdown=2", stats);
    }

    [Fact]
    public void Close_reasons_carry_the_labels_of_the_contract()
    {
        Collect();
        var reasons = Measurements("actortcp.closed_connections").Select(m => m.Tags["reason"]).Order().ToArray();
        Assert.Equal(
            new[] { "crash", "drain_timeout", "handshake_timeout", "idle_timeout", "peer_closed", "quit", "reset", "shutdown", "tls_failed", "transfer_failed" },
            reasons);
        var rejected = Measurements("actortcp.rejected_connections").Select(m => m.Tags["reason"]).Order().ToArray();
        Assert.Equal(new[] { "per_ip_limit", "server_full", "shutdown" }, rejected);
    }

    [Fact]
    public void Requests_bytes_lingering_and_downloads_are_the_STATS_numbers()
    {
        _stats.AddRequests(7);
        _stats.AddBytesIn(100);
        _stats.AddBytesOut(2500);
        _stats.SetLingering(3);
        _downloads = 2;

        Collect();
        Assert.Equal(7, Value("actortcp.requests"));
        Assert.Equal(100, Value("actortcp.received_bytes"));
        Assert.Equal(2500, Value("actortcp.sent_bytes"));
        Assert.Equal(3, Value("actortcp.lingering_connections"));
        Assert.Equal(2, Value("actortcp.active_downloads"));
        Assert.Equal(100, Value("actortcp.max_connections"));
        Assert.Equal(20_000, Value("actortcp.max_descriptors"));
        Assert.Contains(" bytes_in=100 bytes_out=2500 ", _stats.Format(DateTimeOffset.UnixEpoch, 2));
    }

    [Fact]
    public void A_connection_duration_is_recorded_once_in_seconds()
    {
        _metrics.ConnectionEnded(TimeSpan.FromMilliseconds(1500));
        var duration = Assert.Single(Measurements("actortcp.connection.duration"));
        Assert.Equal(1.5, duration.Value);
        Assert.Empty(duration.Tags);
    }

    private void Collect()
    {
        lock (_seen) _seen.Clear();
        _listener.RecordObservableInstruments();
    }

    private void Record<T>(Instrument instrument, T value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        where T : struct
    {
        var labels = new Dictionary<string, string>();
        foreach (var tag in tags) labels[tag.Key] = (string)tag.Value!;
        lock (_seen) _seen.Add((instrument.Name, Convert.ToDouble(value), labels));
    }

    private List<(string Name, double Value, Dictionary<string, string> Tags)> Measurements(string name)
    {
        lock (_seen) return _seen.Where(m => m.Name == name).ToList();
    }

    private double Value(string name, (string Key, string Value)? tag = null) =>
        Assert.Single(Measurements(name), m => tag is null || m.Tags.GetValueOrDefault(tag.Value.Key) == tag.Value.Value).Value;

    /// <summary>A meter factory of the test's own, so its meters are told apart from any other test's.</summary>
    private sealed class OwnFactory : IMeterFactory
    {
        public List<Meter> Created { get; } = new();

        public Meter Create(MeterOptions options)
        {
            var meter = new Meter(options.Name, options.Version, options.Tags, scope: this);
            Created.Add(meter);
            return meter;
        }

        public void Dispose()
        {
            foreach (var meter in Created) meter.Dispose();
        }
    }
}
