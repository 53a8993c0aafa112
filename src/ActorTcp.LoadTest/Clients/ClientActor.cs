// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Text;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using ActorTcp.Protocol;
using ActorTcp.Transport;
using Akka.Actor;

namespace ActorTcp.LoadTest.Clients;

/// <summary>The end of the measured window: finish what is in flight, say QUIT, wait for the server's close.</summary>
internal sealed record StopClient
{
    public static readonly StopClient Instance = new();
}

/// <summary>Sent to the parent exactly once, after the client's connection is gone.</summary>
internal sealed record ClientFinished(int Index, bool Succeeded);

/// <summary>
/// One simulated client: its own socket on the server's own transport (a <see cref="SocketConnector"/> to connect, a
/// <see cref="SocketConnection"/> to read and write, with no connection actor and no buffer while idle), the name
/// dialog, then its scenario. Every reply is checked against what the protocol promises (by
/// <see cref="ReplyChecker"/>); anything else is counted as an error by kind, never dropped.
/// </summary>
internal sealed class ClientActor : UntypedActor, IWithTimers
{
    private readonly record struct Pending(Expect Kind, long Sent);

    private sealed record Tick
    {
        public static readonly Tick Instance = new();
    }

    private sealed record ErrGrace
    {
        public static readonly ErrGrace Instance = new();
    }

    private sealed record ReconnectNow
    {
        public static readonly ReconnectNow Instance = new();
    }

    private sealed record ConnectTimedOut
    {
        public static readonly ConnectTimedOut Instance = new();
    }

    private static readonly TimeSpan ErrGracePeriod = TimeSpan.FromSeconds(2);

    private readonly int _index;
    private readonly RunContext _run;
    private readonly LoadMetrics _metrics;
    private readonly Scenario _scenario;
    private readonly string _name;
    private readonly ReplyChecker _checker;
    private readonly Queue<Pending> _pending = new();
    private readonly IActorRefProvider _provider;

    // The connection of this cycle: its events come from _tag; any other sender's are from an earlier connection.
    private ConnectionTag? _tag;
    private SocketConnector? _connector;
    private IConnection? _connection;

    // Requests written while the transport still holds an earlier one; they follow when it reports WriteCompleted.
    private Queue<byte[]>? _unsent;
    private bool _writeHeld;

    private long _cycleStart;
    private bool _everReady;
    private bool _readyNow;
    private bool _connectedNow;
    private bool _stopping;
    private bool _quitSent;
    private bool _goodbye;
    private long _goodbyeAt;
    private bool _failed;
    private bool _halted;
    private int _churnFailures;

    // --reconnect: when the connection was lost (null while connected), and the attempts since.
    private long? _lostAt;
    private int _reconnectAttempt;

    // When the download in progress last received bytes.
    private long _downloadProgress;

    public ClientActor(int index, RunContext run)
    {
        _index = index;
        _run = run;
        _metrics = run.Metrics;
        _scenario = run.ScenarioOf(index);
        _name = run.Options.NamePrefix + index;
        _checker = new ReplyChecker(
            ReplyReader.For(run.Options.Framing == Framing.Binary, run.MaxReplyBytes),
            Encoding.UTF8.GetBytes(Replies.Hello(_name)), run.EchoPayload, run.ExpectedFile, run.ExpectedSha256);
        _provider = ((ExtendedActorSystem)Context.System).Provider;
    }

    public ITimerScheduler Timers { get; set; } = null!;

    // A producer, not an expression: tens of thousands of clients are made per run, and an expression is built and
    // taken apart for each.
    public static Props Props(int index, RunContext run)
    {
        var props = Akka.Actor.Props.CreateBy(new Producer(index, run));
        if (run.Dispatcher is { } dispatcher) props = props.WithDispatcher(dispatcher);
        return run.Mailbox is { } mailbox ? props.WithMailbox(mailbox) : props;
    }

    private sealed class Producer(int index, RunContext run) : IIndirectActorProducer
    {
        public Type ActorType => typeof(ClientActor);

        public ActorBase Produce() => new ClientActor(index, run);

        public void Release(ActorBase actor)
        {
        }
    }

    protected override void PreStart()
    {
        var options = _run.Options;
        if (_scenario == Scenario.Idle)
        {
            // Staggered, so that thousands of clients do not PING in the same millisecond.
            var offset = TimeSpan.FromTicks((long)(Random.Shared.NextDouble() * options.Heartbeat.Ticks));
            Timers.StartPeriodicTimer("tick", Tick.Instance, offset, options.Heartbeat);
        }
        else
        {
            var period = TimeSpan.FromTicks(Math.Clamp(options.Timeout.Ticks / 4, TimeSpan.TicksPerMillisecond * 100, TimeSpan.TicksPerSecond));
            Timers.StartPeriodicTimer("tick", Tick.Instance, period);
        }
        Connect();
    }

    protected override void PostStop()
    {
        // Stopped from outside (a crash, the system going down): the socket goes with the client.
        _connector?.Cancel();
        _connection?.Abort();
    }

    private void Connect()
    {
        _cycleStart = LoadMetrics.Now;
        _pending.Clear();
        _quitSent = false;
        _goodbye = false;
        _failed = false;
        _halted = false;
        _checker.Reset();
        Interlocked.Increment(ref _metrics.ConnectsStarted);
        _tag = new ConnectionTag(Self, _provider);
        Timers.StartSingleTimer("connect", ConnectTimedOut.Instance, _run.Options.Timeout);
        Become(Connecting);
        _connector = SocketConnector.Connect(_run.Remote(_index), _run.Local(_index), _tag);
    }

    private bool FromCurrentConnection => _tag is not null && ReferenceEquals(Sender, _tag);

    // Before the first connect (PreStart moves on at once).
    protected override void OnReceive(object message) => Unhandled(message);

    private void Connecting(object message)
    {
        switch (message)
        {
            case SocketConnected connected when FromCurrentConnection:
                OnConnected(connected.Socket);
                break;
            case ConnectFailed failed when FromCurrentConnection:
                Timers.Cancel("connect");
                _connector = null;
                _tag = null;
                ConnectAttemptFailed(ErrorKinds.OfConnect(failed.Error));
                break;
            case ConnectTimedOut:
                DropConnection(abort: true);
                ConnectAttemptFailed("timeout: connect");
                break;
            case StopClient:
                _stopping = true;
                break;
            case AbandonClient:
                Abandon();
                break;
            case Tick:
                break;
            default:
                IgnoreEarlierConnection(message);
                break;
        }
    }

    private void OnConnected(System.Net.Sockets.Socket socket)
    {
        Timers.Cancel("connect");
        _connector = null;
        var connection = new SocketConnection(socket);
        _connection = connection;
        connection.Start(_tag!);
        Interlocked.Increment(ref _metrics.Connected);
        Interlocked.Increment(ref _metrics.ConnectedNow);
        _connectedNow = true;
        var now = LoadMetrics.Now;
        _pending.Enqueue(new Pending(Expect.Welcome, now));
        _pending.Enqueue(new Pending(Expect.AskName, now));
        Become(Open);
    }

    private void ConnectAttemptFailed(string kind)
    {
        if (_lostAt is not null)
        {
            // On the way back: a refused or timed-out attempt is part of reconnecting, not an error.
            Interlocked.Increment(ref _metrics.ReconnectAttemptsFailed);
            ScheduleReconnect();
            return;
        }
        CycleFailed(kind, null);
    }

    private void Open(object message)
    {
        switch (message)
        {
            case Received received:
                OnReceived(received);
                break;
            case WriteCompleted when FromCurrentConnection:
                WriteUnsent();
                break;
            case PeerClosed when FromCurrentConnection:
                // The server's FIN: this side closes too, as the server expects of a client it sent away.
                _connection!.Close();
                OnClosed(null);
                break;
            case Closed closed when FromCurrentConnection:
                OnClosed(closed.Kind);
                break;
            case Tick:
                OnTick();
                break;
            case StopClient:
                _stopping = true;
                if (_everReady && _readyNow)
                {
                    SendQuit();
                }
                break;
            case ErrGrace:
                // An ERR line the server did not follow with a close: a wrong reply, not a server close.
                if (!_failed && _checker.ErrNotFollowedByClose() is { } detail)
                {
                    Fail(ErrorKinds.WrongReply, detail);
                }
                break;
            case AbandonClient:
                Abandon();
                break;
            default:
                IgnoreEarlierConnection(message);
                break;
        }
    }

    /// <summary>--reconnect: the connection is gone and the next attempt waits for its backoff.</summary>
    private void WaitingToReconnect(object message)
    {
        switch (message)
        {
            case ReconnectNow:
                Connect();
                break;
            case StopClient:
                _stopping = true;
                _metrics.Error("reconnect: not connected again by the end", null);
                Finish(succeeded: false);
                break;
            case AbandonClient:
                Abandon();
                break;
            case Tick:
                break;
            default:
                IgnoreEarlierConnection(message);
                break;
        }
    }

    private void Finished(object message)
    {
        if (message is Received or SocketConnected)
        {
            IgnoreEarlierConnection(message);
        }
    }

    /// <summary>
    /// What an earlier connection still had under way when the client let it go: its bytes go back to the pool, a
    /// connect that succeeded just as it was given up releases its socket, the rest means nothing now.
    /// </summary>
    private void IgnoreEarlierConnection(object message)
    {
        switch (message)
        {
            case Received received:
                ArrayPool<byte>.Shared.Return(received.Buffer);
                break;
            case SocketConnected connected:
                connected.Socket.Dispose();
                break;
            case ConnectFailed or WriteCompleted or PeerClosed or Closed or ConnectTimedOut:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    // ---- replies ----

    private void OnReceived(Received received)
    {
        if (!FromCurrentConnection)
        {
            ArrayPool<byte>.Shared.Return(received.Buffer);
            return;
        }
        Interlocked.Add(ref _metrics.BytesIn, received.Count);
        var tag = _tag;
        ReadReplies(received.Buffer.AsSpan(0, received.Count), tag);
        ArrayPool<byte>.Shared.Return(received.Buffer);
        if (ReferenceEquals(tag, _tag))
        {
            // Pull: the next bytes are read when these are dealt with.
            _connection?.ResumeReading();
        }
    }

    private void ReadReplies(ReadOnlySpan<byte> data, ConnectionTag? tag)
    {
        // Once the client fails, the rest of the input is ignored: the connection is aborted (and a churn client may
        // already be on its next one).
        while (!_halted && ReferenceEquals(tag, _tag) && _checker.Next(ref data, Head()) is { } check)
        {
            Act(check);
        }
    }

    private Expect? Head() => _pending.TryPeek(out var head) ? head.Kind : null;

    private void Act(Check check)
    {
        switch (check.Verdict)
        {
            case Verdict.Met:
                var done = _pending.Dequeue();
                if (done.Kind == Expect.GetHeader)
                {
                    Interlocked.Add(ref _metrics.DownloadedBytes, check.FileBytes);
                }
                Met(done);
                break;
            case Verdict.InProgress:
                _downloadProgress = LoadMetrics.Now;
                break;
            case Verdict.ErrLine:
                Timers.StartSingleTimer("err", ErrGrace.Instance, ErrGracePeriod);
                break;
            case Verdict.Wrong:
                Fail(ErrorKinds.WrongReply, check.Detail);
                break;
        }
    }

    private void Met(Pending done)
    {
        switch (done.Kind)
        {
            case Expect.AskName:
                Send(_run.Encode(_name), Expect.Hello, _cycleStart);
                break;
            case Expect.Hello:
                if (_lostAt is { } lostAt)
                {
                    _metrics.Record(Op.Reconnect, lostAt);
                    _lostAt = null;
                    _reconnectAttempt = 0;
                }
                _metrics.RecordConnect(_cycleStart);
                _metrics.BecameReady();
                _readyNow = true;
                if (!_everReady)
                {
                    _everReady = true;
                    Interlocked.Increment(ref _metrics.Settled);
                }
                StartScenario();
                break;
            case Expect.Echo:
                _metrics.Record(Op.Echo, done.Sent);
                if (!_quitSent)
                {
                    Send(_run.EchoRequest, Expect.Echo);
                }
                break;
            case Expect.Pong:
                _metrics.Record(Op.Ping, done.Sent);
                break;
            case Expect.GetHeader:
                _metrics.Record(Op.Download, done.Sent);
                if (!_quitSent)
                {
                    Send(_run.GetRequest!, Expect.GetHeader);
                }
                break;
            case Expect.Goodbye:
                _goodbye = true;
                _goodbyeAt = LoadMetrics.Now;
                break;
        }
    }

    private void StartScenario()
    {
        if (_stopping || _scenario is Scenario.Dialog or Scenario.Churn)
        {
            SendQuit();
            return;
        }
        switch (_scenario)
        {
            case Scenario.Echo:
                for (var i = 0; i < _run.Options.Pipeline; i++)
                {
                    Send(_run.EchoRequest, Expect.Echo);
                }
                break;
            case Scenario.Download:
                Send(_run.GetRequest!, Expect.GetHeader);
                break;
        }
        // Idle clients PING on their staggered tick.
    }

    // ---- requests ----

    /// <summary>
    /// Writes straight to the socket from the client's own turn. What the kernel cannot take at once waits in
    /// <see cref="_unsent"/>, which cannot grow: every request waits for its reply, so a client never has more than
    /// --pipeline requests (plus its name or QUIT) unanswered.
    /// </summary>
    private void Send(byte[] request, Expect reply, long? sent = null)
    {
        if (reply == Expect.GetHeader)
        {
            // A GET is only sent once every earlier reply is in, so the reader is between replies and this one is next.
            _checker.ExpectFile();
        }
        _pending.Enqueue(new Pending(reply, sent ?? LoadMetrics.Now));
        if (_connection is not { } connection)
        {
            return;
        }
        Interlocked.Add(ref _metrics.BytesOut, request.Length);
        if (_writeHeld)
        {
            (_unsent ??= new Queue<byte[]>()).Enqueue(request);
            return;
        }
        _writeHeld = !connection.Write(request);
    }

    /// <summary>The transport took the held write: the requests made meanwhile follow, until one is held again.</summary>
    private void WriteUnsent()
    {
        _writeHeld = false;
        while (!_writeHeld && _connection is { } connection && _unsent is { Count: > 0 } unsent)
        {
            _writeHeld = !connection.Write(unsent.Dequeue());
        }
    }

    private void SendQuit()
    {
        if (_quitSent || _connection is null)
        {
            return;
        }
        _quitSent = true;
        Send(_run.QuitRequest, Expect.Goodbye);
    }

    // ---- time ----

    private void OnTick()
    {
        if (_failed || _checker.ErrPending)
        {
            return;
        }
        if (_pending.TryPeek(out var head))
        {
            var since = head.Kind == Expect.GetHeader && _checker.DownloadLength > 0 ? _downloadProgress : head.Sent;
            var limit = head.Kind is Expect.Welcome or Expect.AskName or Expect.Hello ? _run.Options.HandshakeTimeout : _run.Options.Timeout;
            if (LoadMetrics.MicrosSince(since) > limit.TotalMicroseconds)
            {
                Fail($"timeout: {ReplyChecker.Describe(head.Kind)}", null);
                return;
            }
        }
        else if (_goodbye && LoadMetrics.MicrosSince(_goodbyeAt) > _run.Options.Timeout.TotalMicroseconds)
        {
            Fail("timeout: server close after Goodbye!", null);
            return;
        }
        if (_scenario == Scenario.Idle && _readyNow && !_quitSent && !_pending.Any(p => p.Kind == Expect.Pong))
        {
            Send(_run.PingRequest, Expect.Pong);
        }
    }

    // ---- closes ----

    /// <summary>
    /// The server closed the connection (<paramref name="broken"/> null: in order, with its FIN), or the connection
    /// broke (reset, aborted, an error). Either way it is gone.
    /// </summary>
    private void OnClosed(CloseKind? broken)
    {
        DropConnection(abort: false);
        if (_goodbye && _pending.Count == 0)
        {
            if (_scenario is Scenario.Dialog or Scenario.Churn)
            {
                _metrics.Record(Op.Cycle, _cycleStart);
            }
            AfterCycle(succeeded: true);
            return;
        }
        if (_run.Options.Reconnect && !_stopping && !_quitSent)
        {
            // The server went away (drained, killed, reset): come back, to whichever node now takes the port.
            Interlocked.Increment(ref _metrics.Reconnects);
            _lostAt = LoadMetrics.Now;
            _reconnectAttempt = 0;
            ScheduleReconnect();
            return;
        }
        _metrics.Error(_checker.UnexpectedClose(broken, Head()), null);
        AfterCycle(succeeded: false);
    }

    /// <summary>
    /// Lets go of this cycle's connection (aborting it when <paramref name="abort"/>, else it is closed already):
    /// nothing it still sends is read, and the client leaves the gauges.
    /// </summary>
    private void DropConnection(bool abort)
    {
        _tag = null;
        _connector?.Cancel();
        _connector = null;
        if (abort)
        {
            _connection?.Abort();
        }
        _connection = null;
        _unsent?.Clear();
        _writeHeld = false;
        LeaveGauges();
        Timers.Cancel("err");
        Timers.Cancel("connect");
    }

    private void ScheduleReconnect()
    {
        if (_stopping)
        {
            _metrics.Error("reconnect: not connected again by the end", null);
            Finish(succeeded: false);
            return;
        }
        Timers.StartSingleTimer("reconnect", ReconnectNow.Instance, Backoff.Delay(_reconnectAttempt++, Random.Shared.NextDouble()));
        Become(WaitingToReconnect);
    }

    /// <summary>Gives up on this connection: the error is counted once, the connection aborted, and the cycle ends.</summary>
    private void Fail(string kind, string? detail)
    {
        if (_failed)
        {
            return;
        }
        _failed = true;
        _halted = true;
        _metrics.Error(kind, detail is null ? null : $"{_name}: {kind}: {detail}");
        // Abort, not Close: a close would wait for replies this client no longer believes.
        DropConnection(abort: true);
        AfterCycle(succeeded: false);
    }

    /// <summary>Takes this client out of the connected and ready gauges, once.</summary>
    private void LeaveGauges()
    {
        if (_connectedNow)
        {
            _connectedNow = false;
            Interlocked.Decrement(ref _metrics.ConnectedNow);
        }
        if (_readyNow)
        {
            _readyNow = false;
            Interlocked.Decrement(ref _metrics.ReadyNow);
        }
    }

    private void Abandon()
    {
        _metrics.Error(_stopping ? "timeout: still running after the drain" : "timeout: still running at the end", null);
        DropConnection(abort: true);
        Finish(succeeded: false);
    }

    private void CycleFailed(string kind, string? detail)
    {
        _metrics.Error(kind, detail);
        AfterCycle(succeeded: false);
    }

    private void AfterCycle(bool succeeded)
    {
        if (!succeeded && _scenario == Scenario.Churn)
        {
            Interlocked.Increment(ref _metrics.CyclesFailed);
        }
        if (_scenario == Scenario.Churn && !_stopping)
        {
            // A churn slot goes round again after a failed cycle too, so one error does not stop the measurement.
            if (!succeeded)
            {
                _churnFailures++;
            }
            Connect();
            return;
        }
        Finish(succeeded && _churnFailures == 0);
    }

    private void Finish(bool succeeded)
    {
        Timers.CancelAll();
        if (!_everReady)
        {
            _everReady = true;
            Interlocked.Increment(ref _metrics.Settled);
        }
        Interlocked.Increment(ref succeeded ? ref _metrics.ClientsCompleted : ref _metrics.ClientsFailed);
        Interlocked.Increment(ref _metrics.ClientsFinished);
        Context.Parent.Tell(new ClientFinished(_index, succeeded));
        Become(Finished);
        Context.Stop(Self);
    }
}
