using System.Net;
using System.Net.Sockets;
using ActorTcp.Transport;
using ActorTcp.Configuration;
using ActorTcp.Files;
using ActorTcp.Sessions;
using ActorTcp.Supervision;
using Akka.Actor;
using Akka.IO;
using Microsoft.Extensions.Logging;
using Tcp = Akka.IO.Tcp;

namespace ActorTcp.Listening;

/// <summary>
/// Binds the text and the binary listener, admits or refuses each new connection, and is the parent of one
/// <see cref="SessionActor"/> per client. It keeps the server-wide connection count and the per-address counts,
/// and answers WHO from the sessions' tickets.
/// </summary>
public sealed class ListenerActor : UntypedActor, IWithTimers
{
    private static readonly TimeSpan SummaryInterval = TimeSpan.FromSeconds(30);

    private readonly ServerSettings _settings;
    private readonly ServerStats _stats;
    private readonly IActorRef _supervisor;
    private readonly FileService _files;
    private readonly ILogger _logger;
    private readonly BindingStatus _status;
    private readonly Dictionary<IActorRef, SessionTicket> _sessions = new();
    private readonly Dictionary<IPAddress, int> _perAddress = new();
    private readonly List<IActorRef> _bindings = new(2);
    private readonly List<SocketAcceptor> _acceptors = new(2);

    private SessionContext _text = null!;
    private SessionContext? _binary;
    private IPEndPoint? _textEndpoint;
    private IPEndPoint? _binaryEndpoint;
    private long _nextId;
    private IActorRef? _drainRequester;
    private bool _accepting = true;
    private string _lastSummary = "";
    private bool _sessionMailbox;

    public ListenerActor(
        ServerSettings settings, ServerStats stats, IActorRef supervisor, FileService files, ILogger logger, BindingStatus status)
    {
        _settings = settings;
        _stats = stats;
        _supervisor = supervisor;
        _files = files;
        _logger = logger;
        _status = status;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(
        ServerSettings settings, ServerStats stats, IActorRef supervisor, FileService files, ILogger logger, BindingStatus status) =>
        Akka.Actor.Props.Create(() => new ListenerActor(settings, stats, supervisor, files, logger, status));

    /// <summary>A crash inside one session closes that client alone; the listener and every other client go on.</summary>
    protected override SupervisorStrategy SupervisorStrategy() => SessionFailures();

    /// <summary>Stops a failed session (its connection is reset) and logs why; never restarts it on a stale socket.</summary>
    public static SupervisorStrategy SessionFailures() => new OneForOneStrategy(_ => Directive.Stop);

    protected override void PostStop()
    {
        foreach (var acceptor in _acceptors) acceptor.Dispose();
    }

    protected override void PreStart()
    {
        _sessionMailbox = Context.System.Settings.Config.HasPath(SessionMailbox.ConfigPath);
        _text = new SessionContext(_settings, _stats, binary: false, Self, _files, _logger);
        if (_settings.BinaryPort is not null) _binary = new SessionContext(_settings, _stats, binary: true, Self, _files, _logger);
        if (_settings.Transport == TransportKind.Sockets) ListenOnSockets();
        else Bind(_settings.Port);
        Timers.StartPeriodicTimer("summary", LogSummary.Instance, SummaryInterval);
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case SocketAccepted accepted:
                OnSocketAccepted(accepted);
                break;
            case Tcp.Connected connected:
                OnConnected(connected, Sender);
                break;
            case Terminated terminated:
                OnSessionEnded(terminated.ActorRef);
                break;
            case WhoRequest:
                Sender.Tell(new WhoReply(ConnectedNames()));
                break;
            case Tcp.Bound bound:
                OnBound(bound, Sender);
                break;
            case Tcp.CommandFailed { Cmd: Tcp.Bind bind } failed:
                var reason = $"cannot listen on {bind.LocalAddress}: {failed.Cause.Value?.Message ?? failed.CauseString}";
                _logger.LogDebug("Bind failed: {Reason}", reason);
                _status.Fail(reason);
                break;
            case StopAccepting:
                OnStopAccepting(Sender);
                break;
            case Tcp.Unbound:
                break;
            case Drain drain:
                OnDrain(drain, Sender);
                break;
            case DrainDeadline:
                foreach (var session in _sessions.Keys) session.Tell(DrainExpired.Instance);
                break;
            case GetConnectionCount:
                Sender.Tell(_sessions.Count);
                break;
            case LogSummary:
                OnLogSummary();
                break;
            case Tcp.ConnectionClosed or Tcp.Received or WriteAcked:
                // Events of refused connections, which are registered to the listener only to say one line.
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    private void Bind(int port)
    {
        var address = HostAddress;
        var options = new List<Inet.SocketOption> { new Inet.SO.ReuseAddress(_settings.ReuseAddress) };
        Context.System.Tcp().Tell(new Tcp.Bind(Self, new IPEndPoint(address, port), _settings.Backlog, options, pullMode: false));
    }

    private IPAddress HostAddress => _settings.Host == "localhost" ? IPAddress.Loopback : IPAddress.Parse(_settings.Host);

    private void ListenOnSockets()
    {
        try
        {
            var text = SocketAcceptor.Listen(new IPEndPoint(HostAddress, _settings.Port), _settings.Backlog, _settings.ReuseAddress);
            _acceptors.Add(text);
            if (_settings.BinaryPort is { } binaryPort)
                _acceptors.Add(SocketAcceptor.Listen(new IPEndPoint(HostAddress, binaryPort), _settings.Backlog, _settings.ReuseAddress));
        }
        catch (SocketException e)
        {
            var port = _acceptors.Count == 0 ? _settings.Port : _settings.BinaryPort;
            _status.Fail($"cannot listen on {HostAddress}:{port}: {e.Message}");
            return;
        }
        _textEndpoint = _acceptors[0].LocalEndPoint;
        _binaryEndpoint = _acceptors.Count > 1 ? _acceptors[1].LocalEndPoint : null;
        for (var i = 0; i < _acceptors.Count; i++) _acceptors[i].Start(Self, binary: i == 1, _logger);
        ReportBound();
    }

    private void OnSocketAccepted(SocketAccepted accepted)
    {
        var remote = accepted.Socket.RemoteEndPoint as IPEndPoint;
        var socket = accepted.Socket;
        Admit(remote, accepted.Binary, () => new SocketConnection(socket), line => RefuseSocket(socket, EncodeLine(line, accepted.Binary)));
    }

    /// <summary>Says one line to a refused socket and closes it, without a session.</summary>
    private static void RefuseSocket(Socket socket, byte[] line)
    {
        try
        {
            socket.Blocking = false;
            socket.Send(line, SocketFlags.None, out _);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        finally
        {
            socket.Dispose();
        }
    }

    /// <summary>A refusal line in the framing of the listener the client came to: a frame on the binary one.</summary>
    private byte[] EncodeLine(string line, bool binary)
    {
        var output = new System.Buffers.ArrayBufferWriter<byte>(64);
        (binary ? _binary! : _text).Encoder.WriteLine(output, line);
        return output.WrittenSpan.ToArray();
    }

    private void OnBound(Tcp.Bound bound, IActorRef listener)
    {
        _bindings.Add(listener);
        var endpoint = (IPEndPoint)bound.LocalAddress;
        if (_textEndpoint is null)
        {
            _textEndpoint = endpoint;
            if (_settings.BinaryPort is { } binaryPort)
            {
                Bind(binaryPort);
                return;
            }
        }
        else
        {
            _binaryEndpoint = endpoint;
        }
        ReportBound();
    }

    private void ReportBound()
    {
        _logger.LogInformation(
            "Listening on text {TextEndpoint} and binary {BinaryEndpoint} ({Transport}); capacity {MaxConnections} connections ({Source}, descriptor limit {DescriptorLimit})",
            _textEndpoint, (object?)_binaryEndpoint ?? "off", _settings.Transport, _settings.MaxConnections,
            _settings.MaxConnectionsIsAuto ? "auto" : "configured", _settings.DescriptorLimit);
        if (_settings.MaxConnectionsRequested is { } requested)
            _logger.LogWarning(
                "max-connections {Requested} is more than the descriptor limit {DescriptorLimit} leaves; holding {MaxConnections}",
                requested, _settings.DescriptorLimit, _settings.MaxConnections);
        _status.Succeed(new BoundEndpoints(_textEndpoint!, _binaryEndpoint));
    }

    private void OnConnected(Tcp.Connected connected, IActorRef connection)
    {
        var binary = _binaryEndpoint is not null && connected.LocalAddress is IPEndPoint local && local.Port == _binaryEndpoint.Port;
        Admit(connected.RemoteAddress as IPEndPoint, binary, () => new AkkaIoConnection(connection), line => Refuse(connection, EncodeLine(line, binary)));
    }

    /// <summary>Admits a new connection as a session, or refuses it with the line the limit gives.</summary>
    private void Admit(IPEndPoint? remote, bool binary, Func<IConnection> connection, Action<string> refuse)
    {
        var address = remote?.Address ?? IPAddress.None;
        CloseReason? refusal = null;
        string? line = null;
        if (!_accepting) (refusal, line) = (CloseReason.Shutdown, "ERR server shutting down");
        else if (_sessions.Count >= _settings.MaxConnections) (refusal, line) = (CloseReason.ServerFull, "ERR server full");
        else if (_settings.MaxConnectionsPerIp > 0 && _perAddress.GetValueOrDefault(address) >= _settings.MaxConnectionsPerIp)
            (refusal, line) = (CloseReason.PerIpLimit, "ERR too many connections from your address");
        if (refusal is { } reason)
        {
            _stats.ConnectionRefused(reason);
            refuse(line!);
            _logger.LogDebug("Connection from {Remote} refused: {CloseReason}", remote, reason);
            return;
        }

        var context = binary ? _binary! : _text;
        var id = ++_nextId;
        var ticket = new SessionTicket(id, address, Context.System.Scheduler.Now.UtcTicks);
        var props = SessionActor.Props(context, connection(), ticket);
        if (_sessionMailbox) props = props.WithMailbox(SessionMailbox.ConfigPath);
        var session = Context.ActorOf(props, "c" + id);
        ticket.Session = session;
        Context.Watch(session);
        _sessions[session] = ticket;
        if (_settings.MaxConnectionsPerIp > 0) _perAddress[address] = _perAddress.GetValueOrDefault(address) + 1;
        _stats.ConnectionOpened();
        _supervisor.Tell(new Track(ticket));
        _logger.LogDebug("Connection {ConnectionId} from {Remote} accepted on the {Listener} listener",
            id, remote, binary ? "binary" : "text");
    }

    /// <summary>Says one line to an Akka.IO connection that is not admitted, then closes it; it never gets a session.</summary>
    private void Refuse(IActorRef connection, byte[] line)
    {
        connection.Tell(new Tcp.Register(Self, keepOpenOnPeerClosed: false, useResumeWriting: false));
        connection.Tell(Tcp.Write.Create(ByteString.FromBytes(line)));
        connection.Tell(Tcp.Close.Instance);
    }

    private void OnSessionEnded(IActorRef session)
    {
        if (!_sessions.Remove(session, out var ticket)) return;
        if (_settings.MaxConnectionsPerIp > 0 && _perAddress.TryGetValue(ticket.Remote, out var n))
        {
            if (n <= 1) _perAddress.Remove(ticket.Remote);
            else _perAddress[ticket.Remote] = n - 1;
        }
        if (_sessions.Count == 0 && _drainRequester is not null) FinishDrain(cut: 0);
    }

    private List<string> ConnectedNames()
    {
        var names = new List<string>(_sessions.Count);
        foreach (var ticket in _sessions.Values)
            if (ticket.Name is { } name) names.Add(name);
        names.Sort(Protocol.Utf8Order.Instance);
        return names;
    }

    /// <summary>
    /// New clients are refused with the shutdown line from now on. The listening sockets stay bound until the
    /// drain is over: in Akka.IO 1.5.74 unbinding a listener also closes the connections it accepted, which would
    /// cut the transfers the drain is meant to let finish.
    /// </summary>
    private void OnStopAccepting(IActorRef requester)
    {
        _accepting = false;
        requester.Tell(StoppedAccepting.Instance);
    }

    private void OnDrain(Drain drain, IActorRef requester)
    {
        _accepting = false;
        _drainRequester = requester;
        if (_sessions.Count == 0)
        {
            FinishDrain(cut: 0);
            return;
        }
        _logger.LogInformation("Shutting down: telling {Connections} clients, waiting up to {DrainTimeout} for transfers",
            _sessions.Count, drain.Timeout);
        foreach (var session in _sessions.Keys) session.Tell(ServerShuttingDown.Instance);
        Timers.StartSingleTimer("drain", DrainDeadline.Instance, drain.Timeout);
    }

    private void FinishDrain(int cut)
    {
        Timers.Cancel("drain");
        foreach (var binding in _bindings) binding.Tell(Tcp.Unbind.Instance);
        _bindings.Clear();
        foreach (var acceptor in _acceptors) acceptor.Dispose();
        _acceptors.Clear();
        _drainRequester?.Tell(new Drained(cut));
        _drainRequester = null;
    }

    private void OnLogSummary()
    {
        var summary = $"{_sessions.Count}/{_stats.Accepted}/{_stats.Rejected}";
        if (summary == _lastSummary) return;
        _lastSummary = summary;
        _logger.LogInformation(
            "{Connections} connections ({Accepted} accepted, {Rejected} refused so far, {Downloads} downloads running)",
            _sessions.Count, _stats.Accepted, _stats.Rejected, _stats.Downloads);
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
