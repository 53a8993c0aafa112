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

/// <summary>
/// A client's first message, from whoever made it: which client of the run it is. Every client of a run is made from
/// the same <see cref="ClientActor.Props"/>, so what differs between them comes in this message.
/// </summary>
internal sealed record StartClient(int Index);

/// <summary>Sent to the parent exactly once, after the client's connection is gone.</summary>
internal sealed record ClientFinished(int Index, bool Succeeded);

/// <summary>
/// One simulated client: its own socket on the server's own transport (a <see cref="SocketConnector"/> to connect, a
/// <see cref="SocketConnection"/> to read and write, with no connection actor and no buffer while idle), the name
/// dialog, then its scenario. Every reply is checked against what the protocol promises (by
/// <see cref="ReplyChecker"/>); anything else is counted as an error by kind, never dropped.
/// </summary>
/// <remarks>
/// Lean on purpose, as tens of thousands of them share one process: one <see cref="Props"/> for every client of a run,
/// no Akka timers (time comes as <see cref="Beat"/> from the run's shared <see cref="ClientClock"/>s, or, for the rare
/// error grace and reconnect backoff, as one scheduled message, cancelled when it is no longer wanted and checked
/// against the latest one asked for, since a cancel can lose the race with the delivery), and no <c>Become</c> (a state field instead: the first <c>Become</c> gives an actor a
/// behaviour stack and the watch sets that come with it).
/// </remarks>
internal sealed class ClientActor : UntypedActor
{
    private readonly record struct Pending(Expect Kind, long Sent);

    private enum State
    {
        NotStarted,
        Connecting,
        Open,
        WaitingToReconnect,
        Finished,
    }

    /// <summary>The ERR grace of this client's <paramref name="Serial"/>-th ERR line is over.</summary>
    private sealed record ErrGrace(int Serial);

    /// <summary>The backoff of this client's <paramref name="Serial"/>-th reconnect wait is over.</summary>
    private sealed record ReconnectNow(int Serial);

    private static readonly TimeSpan ErrGracePeriod = TimeSpan.FromSeconds(2);

    private readonly RunContext _run;
    private readonly LoadMetrics _metrics;
    private readonly Queue<Pending> _pending = new();
    private readonly IActorRefProvider _provider;

    // Set by StartClient.
    private int _index;
    private Scenario _scenario;
    private string _name = "";
    private ReplyChecker _checker = null!;

    private State _state;

    // The shared clock this client is registered with (null: none), and its slot there.
    private ClientClock? _clock;
    private int _slot;

    // Which ERR grace and which reconnect backoff are the latest; a scheduled message of an earlier one means nothing.
    private int _errSerial;
    private int _reconnectSerial;

    // The one scheduled message there can be (an ERR grace and a reconnect wait never overlap), to cancel when the
    // client lets its connection go or stops; null when there is none.
    private ICancelable? _later;

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

    public ClientActor(RunContext run)
    {
        _run = run;
        _metrics = run.Metrics;
        _provider = ((ExtendedActorSystem)Context.System).Provider;
    }

    /// <summary>
    /// The Props of every client of <paramref name="run"/>: make them once per run (each client tells apart by
    /// <see cref="StartClient"/>). A producer, not an expression: an expression is built and taken apart per use.
    /// </summary>
    public static Props Props(RunContext run)
    {
        var props = Akka.Actor.Props.CreateBy(new Producer(run));
        if (run.Dispatcher is { } dispatcher) props = props.WithDispatcher(dispatcher);
        return run.Mailbox is { } mailbox ? props.WithMailbox(mailbox) : props;
    }

    private sealed class Producer(RunContext run) : IIndirectActorProducer
    {
        public Type ActorType => typeof(ClientActor);

        public ActorBase Produce() => new ClientActor(run);

        public void Release(ActorBase actor)
        {
        }
    }

    private void Begin(int index)
    {
        _index = index;
        _scenario = _run.ScenarioOf(index);
        _name = _run.Options.NamePrefix + index;
        _checker = new ReplyChecker(
            ReplyReader.For(_run.Options.Framing == Framing.Binary, _run.MaxReplyBytes),
            Encoding.UTF8.GetBytes(Replies.Hello(_name)), _run.EchoPayload, _run.ExpectedFile, _run.ExpectedSha256);
        Connect();
    }

    protected override void PostStop()
    {
        // Stopped from outside (a crash, the system going down): the socket goes with the client, and so does its beat.
        LeaveClock();
        CancelLater();
        _connector?.Cancel();
        _connection?.Abort();
    }

    /// <summary>
    /// Beats from <paramref name="clock"/> from now on (at a random phase of its period, so that thousands of clients
    /// do not beat in the same millisecond); staying on the clock it is on already keeps its phase.
    /// </summary>
    private void JoinClock(ClientClock clock)
    {
        if (ReferenceEquals(_clock, clock))
        {
            return;
        }
        LeaveClock();
        _slot = clock.Register(Self, Random.Shared.NextDouble());
        _clock = clock;
    }

    /// <summary>Sends <paramref name="message"/> to this client after <paramref name="delay"/>, in place of the one scheduled before.</summary>
    private void Later(TimeSpan delay, object message)
    {
        CancelLater();
        _later = new Cancelable(Context.System.Scheduler);
        // What the rule asks is done: the message is cancelled when the connection goes, in Finish and in PostStop.
        // IWithTimers, which it suggests, is the ~550 B per client this actor does without.
#pragma warning disable AK1004
        Context.System.Scheduler.ScheduleTellOnce(delay, Self, message, Self, _later);
#pragma warning restore AK1004
    }

    private void CancelLater()
    {
        _later?.Cancel();
        _later = null;
    }

    private void LeaveClock()
    {
        _clock?.Unregister(Self, _slot);
        _clock = null;
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
        // Until its dialog is done, the client looks at its connect and handshake deadlines on the check clock.
        JoinClock(_run.CheckClock);
        _state = State.Connecting;
        _connector = SocketConnector.Connect(_run.Remote(_index), _run.Local(_index), _tag);
    }

    private bool FromCurrentConnection => _tag is not null && ReferenceEquals(Sender, _tag);

    protected override void OnReceive(object message)
    {
        switch (_state)
        {
            case State.NotStarted:
                NotStarted(message);
                break;
            case State.Connecting:
                Connecting(message);
                break;
            case State.Open:
                Open(message);
                break;
            case State.WaitingToReconnect:
                WaitingToReconnect(message);
                break;
            default:
                Finished(message);
                break;
        }
    }

    private void NotStarted(object message)
    {
        if (message is StartClient start)
        {
            Begin(start.Index);
        }
        else
        {
            Unhandled(message);
        }
    }

    private void Connecting(object message)
    {
        switch (message)
        {
            case SocketConnected connected when FromCurrentConnection:
                OnConnected(connected.Socket);
                break;
            case ConnectFailed failed when FromCurrentConnection:
                _connector = null;
                _tag = null;
                ConnectAttemptFailed(ErrorKinds.OfConnect(failed.Error));
                break;
            case Beat:
                if (LoadMetrics.MicrosSince(_cycleStart) > _run.Options.Timeout.TotalMicroseconds)
                {
                    DropConnection(abort: true);
                    ConnectAttemptFailed("timeout: connect");
                }
                break;
            case StopClient:
                _stopping = true;
                break;
            case AbandonClient:
                Abandon();
                break;
            default:
                IgnoreEarlierConnection(message);
                break;
        }
    }

    private void OnConnected(System.Net.Sockets.Socket socket)
    {
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
        _state = State.Open;
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
            case Readable when FromCurrentConnection:
                OnReadable();
                break;
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
            case Beat:
                OnTick();
                break;
            case StopClient:
                _stopping = true;
                if (_everReady && _readyNow)
                {
                    SendQuit();
                }
                break;
            case ErrGrace grace:
                // An ERR line the server did not follow with a close: a wrong reply, not a server close.
                if (grace.Serial == _errSerial && !_failed && _checker.ErrNotFollowedByClose() is { } detail)
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
            case ReconnectNow now:
                if (now.Serial == _reconnectSerial)
                {
                    _later = null;
                    Connect();
                }
                break;
            case StopClient:
                _stopping = true;
                _metrics.Error("reconnect: not connected again by the end", null);
                Finish(succeeded: false);
                break;
            case AbandonClient:
                Abandon();
                break;
            default:
                IgnoreEarlierConnection(message);
                break;
        }
    }

    private void Finished(object message)
    {
        if (message is Received or SocketConnected or Beat)
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
            case Readable or ConnectFailed or WriteCompleted or PeerClosed or Closed or Beat or ErrGrace or ReconnectNow:
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    // ---- replies ----

    private void OnReceived(Received received)
    {
        if (FromCurrentConnection) OnBytes(received.Buffer.AsSpan(0, received.Count));
        ArrayPool<byte>.Shared.Return(received.Buffer);
    }

    /// <summary>The connection has bytes for us: they are read into the thread's buffer and checked in this turn.</summary>
    private void OnReadable()
    {
        var buffer = TurnBuffer.ForThisThread;
        var n = _connection!.Read(buffer);
        if (n > 0) OnBytes(buffer.AsSpan(0, n));
    }

    private void OnBytes(ReadOnlySpan<byte> data)
    {
        Interlocked.Add(ref _metrics.BytesIn, data.Length);
        var tag = _tag;
        ReadReplies(data, tag);
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
                Later(ErrGracePeriod, new ErrGrace(++_errSerial));
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
                if (_scenario == Scenario.Idle)
                {
                    // From here on an idle client's time is its heartbeat: a PING per period, at a phase of its own.
                    JoinClock(_run.HeartbeatClock);
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
        // An ERR grace still scheduled belongs to this connection.
        _errSerial++;
        CancelLater();
    }

    private void ScheduleReconnect()
    {
        if (_stopping)
        {
            _metrics.Error("reconnect: not connected again by the end", null);
            Finish(succeeded: false);
            return;
        }
        // No beats while waiting: nothing is in flight. The backoff is one scheduled message, rare enough for Akka's own.
        LeaveClock();
        var delay = Backoff.Delay(_reconnectAttempt++, Random.Shared.NextDouble());
        Later(delay, new ReconnectNow(++_reconnectSerial));
        _state = State.WaitingToReconnect;
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
        LeaveClock();
        CancelLater();
        if (!_everReady)
        {
            _everReady = true;
            Interlocked.Increment(ref _metrics.Settled);
        }
        Interlocked.Increment(ref succeeded ? ref _metrics.ClientsCompleted : ref _metrics.ClientsFailed);
        Interlocked.Increment(ref _metrics.ClientsFinished);
        Context.Parent.Tell(new ClientFinished(_index, succeeded));
        _state = State.Finished;
        Context.Stop(Self);
    }
}
