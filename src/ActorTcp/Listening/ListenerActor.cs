using System.Net;
using System.Net.Sockets;
using ActorTcp.Cluster;
using ActorTcp.Configuration;
using ActorTcp.Files;
using System.Net.Security;
using ActorTcp.Heartbeat;
using ActorTcp.Observability;
using ActorTcp.Protocol;
using ActorTcp.Sessions;
using ActorTcp.Transport;
using ActorTcp.Udp;
using Akka.Actor;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Listening;

/// <summary>What the listener is built from, made once by the host.</summary>
internal sealed record ListenerParts(
    ServerSettings Settings, ServerStats Stats, FileService Files, SessionKeys Keys,
    SslStreamCertificateContext? Tls, ILogger Logger, BindingStatus Status, ServerMetrics? Metrics = null,
    IActorRef? Registry = null);

/// <summary>
/// Binds the text and the binary listener (docs/PROTOCOL.md), admits or refuses each new connection through
/// <see cref="Admission"/>, and is the parent of one <see cref="SessionActor"/> per client. It answers WHO from the
/// sessions' tickets (or, in cluster mode, passes WHO, NODES and STATS to the node's registry, and gives the registry
/// this node's names) and bounds the lingering sockets of sessions that are over. Two behaviours:
/// <see cref="Listening"/>, then <see cref="Draining"/> once the server is stopping.
/// </summary>
internal sealed class ListenerActor : UntypedActor, IWithTimers
{
    private static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(30);

    private readonly ServerSettings _settings;
    private readonly ServerStats _stats;
    private readonly IActorRef _heartbeat;
    private readonly FileService _files;
    private readonly SessionKeys _keys;
    private readonly SslStreamCertificateContext? _tls;
    private readonly ILogger _logger;
    private readonly BindingStatus _status;
    private readonly ServerMetrics? _metrics;
    private readonly IActorRef? _registry;
    private readonly Admission _admission;
    private readonly HashSet<SessionTicket> _live = new();
    private readonly LingeringSockets<SessionTicket> _lingering;
    private readonly List<SessionTicket> _evicted = new();
    private readonly List<SocketAcceptor> _acceptors = new(3);
    private readonly Dictionary<ListenerKind, SessionContext> _contexts = new(3);
    private readonly Dictionary<ListenerKind, Props> _sessionProps = new(3);
    private long _nextId;
    private IActorRef? _drainRequester;
    private string _lastSummary = "";
    private bool _sessionMailbox;
    private bool _sessionDispatcher;
    private bool _lingeringToldToClose;

    public ListenerActor(ListenerParts parts, IActorRef heartbeat)
    {
        _metrics = parts.Metrics;
        _registry = parts.Registry;
        _settings = parts.Settings;
        _stats = parts.Stats;
        _heartbeat = heartbeat;
        _files = parts.Files;
        _keys = parts.Keys;
        _tls = parts.Tls;
        _logger = parts.Logger;
        _status = parts.Status;
        _admission = new Admission(_settings.MaxConnections, _settings.MaxConnectionsPerIp);
        _lingering = new LingeringSockets<SessionTicket>(_settings.MaxLingering, _settings.MaxConnectionsPerIp);
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(ListenerParts parts, IActorRef heartbeat) =>
        Akka.Actor.Props.Create(() => new ListenerActor(parts, heartbeat));

    /// <summary>A crash inside one session closes that client alone; the listener and every other client go on.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => SessionFailures();

    /// <summary>Stops a failed session (its connection is reset) and logs why; never restarts it on a stale socket.</summary>
    public static SupervisorStrategy SessionFailures() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PreStart()
    {
        _sessionMailbox = Context.System.Settings.Config.HasPath(SessionMailbox.ConfigPath);
        _sessionDispatcher = EpollLoops.Supported && Context.System.Settings.Config.HasPath(LoopExecutorConfigurator.DispatcherPath);
        var scheduler = Context.System.Scheduler;
        Func<DateTimeOffset> now = () => scheduler.Now;
        foreach (var kind in Enum.GetValues<ListenerKind>())
        {
            _contexts[kind] = new SessionContext(_settings, _stats, binary: kind == ListenerKind.Binary, _files, _keys, _logger, now);
            var props = SessionActor.SharedProps(_contexts[kind]);
            if (_sessionMailbox) props = props.WithMailbox(SessionMailbox.ConfigPath);
            if (_sessionDispatcher) props = props.WithDispatcher(LoopExecutorConfigurator.DispatcherPath);
            _sessionProps[kind] = props;
        }
        Listen();
        _registry?.Tell(new ListenerReady(Self));
        Timers.StartPeriodicTimer("summary", LogSummary.Instance, SummaryInterval);
    }

    protected override void PostStop()
    {
        foreach (var acceptor in _acceptors) acceptor.Dispose();
    }

    protected override void OnReceive(object message) => Listening(message);

    /// <summary>Admits new clients while there is room.</summary>
    private void Listening(object message)
    {
        switch (message)
        {
            case SocketAccepted accepted:
                OnAccepted(accepted, shuttingDown: false);
                break;
            case StopAccepting:
                StartDraining();
                Sender.Tell(StoppedAccepting.Instance);
                break;
            case Drain drain:
                StartDraining();
                OnDrain(drain);
                break;
            default:
                OnCommon(message);
                break;
        }
    }

    /// <summary>
    /// The server is stopping: new clients are refused with the shutdown line, and the drain is over once every
    /// session has ended and every lingering socket is closed. The listening sockets stay bound until then, so that
    /// clients knocking meanwhile are told rather than left in the backlog.
    /// </summary>
    private void Draining(object message)
    {
        switch (message)
        {
            case SocketAccepted accepted:
                OnAccepted(accepted, shuttingDown: true);
                break;
            case StopAccepting:
                Sender.Tell(StoppedAccepting.Instance);
                break;
            case Drain drain:
                OnDrain(drain);
                break;
            case DrainDeadline:
                foreach (var ticket in _live) ticket.Session.Tell(DrainExpired.Instance);
                break;
            default:
                OnCommon(message);
                CheckDrained();
                break;
        }
    }

    private void StartDraining() => Become(Draining);

    private void OnCommon(object message)
    {
        switch (message)
        {
            case SessionEnded ended:
                OnSessionEnded(ended.Ticket, ended.Reason, lingering: true);
                break;
            case SessionStopped stopped:
                if (!_lingering.Remove(stopped.Ticket)) OnSessionEnded(stopped.Ticket, stopped.Reason, lingering: false);
                _stats.SetLingering(_lingering.Count);
                break;
            case WhoRequest or NodesRequest or StatsRequest when _registry is not null:
                _registry.Forward(message);
                break;
            case WhoRequest or LocalNamesRequest:
                Sender.Tell(new WhoReply(ConnectedNames()));
                break;
            case NodesRequest:
                Sender.Tell(new NodesReply([new NodeLine("standalone", "up", _stats.Connections)]));
                break;
            case GetConnectionCount:
                Sender.Tell(_live.Count);
                break;
            case LogSummary:
                OnLogSummary();
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private IPAddress HostAddress => _settings.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(_settings.Host);

    /// <summary>Binds every listener that is on; the first that cannot be had fails the start with its one line.</summary>
    private void Listen()
    {
        var wanted = new List<(ListenerKind Kind, int Port)> { (ListenerKind.Text, _settings.Port) };
        if (_settings.BinaryPort is { } binaryPort) wanted.Add((ListenerKind.Binary, binaryPort));
        if (_settings.TlsPort is { } tlsPort) wanted.Add((ListenerKind.Tls, tlsPort));
        var bound = new Dictionary<ListenerKind, IPEndPoint>();
        Socket? udp = null;
        var trying = "";
        try
        {
            foreach (var (kind, port) in wanted)
            {
                trying = $"{HostAddress}:{port}";
                var acceptor = SocketAcceptor.Listen(new IPEndPoint(HostAddress, port), _settings.Backlog, _settings.ReuseAddress);
                _acceptors.Add(acceptor);
                bound[kind] = acceptor.LocalEndPoint;
            }
            if (_settings.UdpPort is { } udpPort)
            {
                trying = $"UDP {HostAddress}:{udpPort}";
                udp = UdpEndpoint.Bind(new IPEndPoint(HostAddress, udpPort));
            }
        }
        catch (SocketException e)
        {
            foreach (var acceptor in _acceptors) acceptor.Dispose();
            _acceptors.Clear();
            _status.Fail($"cannot listen on {trying}: {e.Message}");
            return;
        }
        for (var i = 0; i < _acceptors.Count; i++) _acceptors[i].Start(Self, wanted[i].Kind, _logger);
        var udpEndpoint = udp?.LocalEndPoint as IPEndPoint;
        if (udp is not null) StartUdp(udp);

        _logger.LogInformation(
            "Listening on text {TextEndpoint}, binary {BinaryEndpoint}, TLS {TlsEndpoint}, UDP {UdpEndpoint}; capacity {MaxConnections} connections ({Source}, descriptor limit {DescriptorLimit}); readiness from {Readiness}",
            bound[ListenerKind.Text], Shown(bound.GetValueOrDefault(ListenerKind.Binary)), Shown(bound.GetValueOrDefault(ListenerKind.Tls)),
            Shown(udpEndpoint), _settings.MaxConnections, _settings.MaxConnectionsIsAuto ? "auto" : "configured", _settings.DescriptorLimit,
            EpollLoops.Supported ? "epoll loops" : "asynchronous receives");
        if (_settings.MaxConnectionsRequested is { } requested)
            _logger.LogWarning(
                "max-connections {Requested} is more than the descriptor limit {DescriptorLimit} leaves; holding {MaxConnections}",
                requested, _settings.DescriptorLimit, _settings.MaxConnections);
        _status.Succeed(new BoundEndpoints(
            bound[ListenerKind.Text], bound.GetValueOrDefault(ListenerKind.Binary), bound.GetValueOrDefault(ListenerKind.Tls), udpEndpoint));
    }

    private static object Shown(IPEndPoint? endpoint) => (object?)endpoint ?? "off";

    private void StartUdp(Socket socket)
    {
        var scheduler = Context.System.Scheduler;
        var rates = new RateWindows(_settings.UdpMaxPerSecond, _settings.UdpMaxAddresses);
        var registry = _registry;
        Action<byte[]>? forward = registry is null ? null : key => registry.Tell(new ForwardHeartbeat(key));
        var responder = new UdpResponder(_settings.MaxLineBytes, rates, _keys, () => scheduler.Now.UtcTicks, forward);
        Context.ActorOf(UdpEndpoint.Props(socket, responder, _settings.MaxLineBytes, _logger), "udp");
    }

    /// <summary>Admits a new connection as a session, or says the refusal's one line and closes it.</summary>
    private void OnAccepted(SocketAccepted accepted, bool shuttingDown)
    {
        var address = accepted.Remote;
        var context = _contexts[accepted.Listener];
        var verdict = _admission.Decide(address, shuttingDown);
        if (verdict != Verdict.Admit)
        {
            var (reason, line) = verdict switch
            {
                Verdict.ServerFull => (CloseReason.ServerFull, Replies.ServerFull),
                Verdict.PerIpLimit => (CloseReason.PerIpLimit, Replies.TooManyFromAddress),
                _ => (CloseReason.Shutdown, Replies.ShuttingDown),
            };
            _stats.ConnectionRefused(reason);
            if (accepted.Listener == ListenerKind.Tls) _ = RefuseOverTlsAsync(accepted.Socket!, line);
            else Refuse(accepted, context.Encoder, line);
            _logger.LogDebug("Connection from {Remote} refused: {CloseReason}", address, reason);
            return;
        }

        var id = ++_nextId;
        var ticket = new SessionTicket(id, address, Context.System.Scheduler.Now.UtcTicks, accepted.Listener);
        IConnection connection = accepted switch
        {
            { Listener: ListenerKind.Tls } => new TlsConnection(accepted.Socket!, _tls!),
            { Descriptor: { } descriptor } => new SocketConnection(descriptor),
            _ => new SocketConnection(accepted.Socket!),
        };
        context.Handoff.Leave(id, connection, ticket, WireTrace.For(_settings, ticket, _logger));
        // Counted before the session exists: it runs on another thread at once, and its client may be greeted, named
        // and asking STATS through another session before this turn goes on.
        _live.Add(ticket);
        _stats.ConnectionOpened(accepted.Listener);
        ticket.Session = Context.ActorOf(_sessionProps[accepted.Listener], SessionHandoff.NameOf(id));
        _heartbeat.Tell(new Track(ticket));
        _logger.LogDebug("Connection {ConnectionId} from {Remote} accepted on the {Listener} listener",
            id, address, ListenerKinds.Label(accepted.Listener));
    }

    /// <summary>Says one line, in the framing of the listener the client came to, to a refused socket and closes it.</summary>
    private static void Refuse(SocketAccepted accepted, IReplyEncoder encoder, string line)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>(64);
        encoder.WriteLine(output, line);
        if (accepted.Descriptor is { } descriptor)
        {
            // A new socket's buffer is empty: the line goes at once, without waiting.
            using (descriptor)
            {
                using (new HeldDescriptor(descriptor)) NativeSocket.Send(descriptor.Fd, output.WrittenSpan, out _);
                NativeSocket.ShutdownSend(descriptor, descriptor.Fd);
            }
            return;
        }
        var socket = accepted.Socket!;
        try
        {
            socket.Blocking = false;
            socket.Send(output.WrittenSpan, SocketFlags.None, out _);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>
    /// A refused client on the TLS listener gets the handshake, then its one line inside TLS, then the close; a client
    /// that does not finish the handshake within handshake-timeout gets nothing.
    /// </summary>
    private async Task RefuseOverTlsAsync(Socket socket, string line)
    {
        using var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true));
        using var deadline = new CancellationTokenSource(_settings.HandshakeTimeout);
        try
        {
            if (!await TlsConnection.HandshakeAsync(ssl, _tls!, deadline.Token)) return;
            var output = new System.Buffers.ArrayBufferWriter<byte>(64);
            _contexts[ListenerKind.Tls].Encoder.WriteLine(output, line);
            await ssl.WriteAsync(output.WrittenMemory, deadline.Token);
            await ssl.ShutdownAsync();
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException) { }
    }

    /// <summary>
    /// A session is over as a client: its close is counted and its place freed now, not when its socket is finally
    /// released. A lingering socket is kept within its bounds; past them the oldest is closed at once.
    /// </summary>
    private void OnSessionEnded(SessionTicket ticket, CloseReason reason, bool lingering)
    {
        if (!_live.Remove(ticket)) return;
        _keys.Forget(ticket);
        _admission.Release(ticket.Remote);
        if (lingering)
        {
            _lingering.Add(ticket, ticket.Remote, _evicted);
            foreach (var oldest in _evicted) oldest.Session.Tell(CloseNow.Instance);
            _evicted.Clear();
        }
        _stats.SetLingering(_lingering.Count);
        // The close is counted last: a STATS line or a scrape that sees it also sees its duration, the lingering
        // socket and the freed connection.
        _metrics?.ConnectionEnded(TimeSpan.FromTicks(Context.System.Scheduler.Now.UtcTicks - ticket.OpenedAtTicks));
        _stats.ConnectionEnded(ticket.Listener, reason);
    }

    private List<string> ConnectedNames()
    {
        var names = new List<string>(_live.Count);
        foreach (var ticket in _live)
            if (ticket.Name is { } name) names.Add(name);
        names.Sort(Utf8Order.Instance);
        return names;
    }

    private void OnDrain(Drain drain)
    {
        _drainRequester = Sender;
        if (_live.Count > 0)
        {
            _logger.LogInformation("Shutting down: telling {Connections} clients, waiting up to {DrainTimeout} for transfers",
                _live.Count, drain.Timeout);
            foreach (var ticket in _live) ticket.Session.Tell(ServerShuttingDown.Instance);
            Timers.StartSingleTimer("drain", DrainDeadline.Instance, drain.Timeout);
        }
        CheckDrained();
    }

    /// <summary>Once no client is left, the lingering sockets are closed too, and the drain is over when they are.</summary>
    private void CheckDrained()
    {
        if (_drainRequester is null || _live.Count > 0) return;
        if (_lingering.Count > 0)
        {
            if (_lingeringToldToClose) return;
            _lingeringToldToClose = true;
            foreach (var ticket in _lingering.Items) ticket.Session.Tell(CloseNow.Instance);
            return;
        }
        Timers.Cancel("drain");
        foreach (var acceptor in _acceptors) acceptor.Dispose();
        _acceptors.Clear();
        _drainRequester.Tell(Drained.Instance);
        _drainRequester = null;
    }

    private void OnLogSummary()
    {
        var summary = $"{_live.Count}/{_stats.Accepted}/{_stats.Rejected}";
        if (summary == _lastSummary) return;
        _lastSummary = summary;
        _logger.LogInformation(
            "{Connections} connections ({Accepted} accepted, {Rejected} refused so far, {Lingering} lingering, {Downloads} downloads running)",
            _live.Count, _stats.Accepted, _stats.Rejected, _lingering.Count, _files.Downloads.Running);
    }

    private sealed class DrainDeadline
    {
        public static readonly DrainDeadline Instance = new();
        private DrainDeadline() { }
    }

    private sealed class LogSummary
    {
        public static readonly LogSummary Instance = new();
        private LogSummary() { }
    }
}
