using System.Buffers;
using ActorTcp.Files;
using ActorTcp.Observability;
using ActorTcp.Protocol;
using ActorTcp.Transport;
using Akka.Actor;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Sessions;

/// <summary>
/// One client of docs/PROTOCOL.md. The actor only moves bytes and messages: requests go to the listener's pure
/// <see cref="Conversation"/>, replies come back into a pending buffer that is written with one write in flight,
/// and the connection's lifecycle is one <see cref="ConnectionState"/> moved by <see cref="Advance"/>.
/// </summary>
/// <remarks>
/// One receive method rather than <c>Become</c> behaviours: every state handles the same transport events, and a
/// per-session delegate per behaviour would cost memory on every connection.
/// </remarks>
internal sealed class SessionActor : UntypedActor, IBufferWriter<byte>
{
    /// <summary>The connection's lifecycle, in the manner of Akka.IO's TcpConnection.</summary>
    private enum ConnectionState
    {
        /// <summary>Both directions open.</summary>
        Open,
        /// <summary>The client closed its sending side; it still gets every reply it asked for.</summary>
        PeerClosed,
        /// <summary>The last line is queued; the writes before it are draining.</summary>
        Closing,
        /// <summary>Our FIN is out; the session is over as a client, and the socket waits for the client's FIN.</summary>
        Lingering,
        /// <summary>The socket is released.</summary>
        Gone,
    }

    /// <summary>What moves the lifecycle on.</summary>
    private enum Signal
    {
        /// <summary>The client's FIN arrived while we were still talking.</summary>
        PeerFinished,
        /// <summary>The conversation is over and its last line (if any) is queued.</summary>
        LastLineQueued,
        /// <summary>Every queued byte has been taken by the transport.</summary>
        WritesDrained,
        /// <summary>close-linger passed, or the listener needs the socket back.</summary>
        StopLingering,
        /// <summary>The transport says the connection is gone.</summary>
        ConnectionGone,
    }

    /// <summary>What the conversation is busy with; requests wait behind anything but <see cref="Work.Ready"/>.</summary>
    private enum Work
    {
        Ready,
        /// <summary>A reply depends on an answer from elsewhere (WHO, LIST, a GET being prepared).</summary>
        Waiting,
        /// <summary>A GET is sending file bytes.</summary>
        Streaming,
    }

    private readonly SessionContext _ctx;
    private readonly IConnection _connection;
    private readonly SessionTicket _ticket;
    private readonly IRequestDecoder _decoder;
    // Reply bytes waiting for the transport (see the IBufferWriter members below): the session is its own reply
    // buffer, one object fewer per client and one fewer for every request to reach.
    private PendingOutput _output;
    // Null unless this client's address is traced: the one check an untraced session pays per read and write.
    private readonly WireTrace? _trace;

    private ConnectionState _state = ConnectionState.Open;

    // The transport starts out reading: the first read is asked for by Start.
    private bool _readAsked = true;
    private Work _work = Work.Ready;
    private CloseReason? _closeReason;

    // Input being processed, or that the session could not process yet (it is busy, or its replies are not being
    // read): the buffer a read came in (pooled, or the thread's TurnBuffer for this turn only), and where its unread
    // part starts and ends.
    private byte[]? _input;
    private int _inputStart;
    private int _inputEnd;
    private bool _inputBorrowed;

    // The write the transport has not finished taking, and the pooled buffer it came from (null for a file chunk,
    // whose buffer is the transfer's).
    private bool _writing;
    private byte[]? _inFlight;

    // True while one read's requests are answered: the ticket was touched as the read came in, and a reply the
    // transport takes at once within the same turn tells the idle clock nothing new (one clock read per request).
    private bool _touchedThisTurn;

    private Transfer? _transfer;
    private bool _shutdownAfterTransfer;
    private ICancelable? _linger;

    /// <summary>
    /// Made by the listener's shared <see cref="Props"/>: what is this session's own (its connection, ticket and
    /// trace) was left for it in <see cref="SessionContext.Handoff"/> under the number its name carries.
    /// </summary>
    public SessionActor(SessionContext ctx)
    {
        var (connection, ticket, trace) = ctx.Handoff.Take(SessionHandoff.IdOf(Self.Path.Name));
        _ctx = ctx;
        _connection = connection;
        _ticket = ticket;
        _trace = trace;
        _decoder = ctx.NewDecoder();
    }

    public SessionActor(SessionContext ctx, IConnection connection, SessionTicket ticket, WireTrace? trace = null)
    {
        _ctx = ctx;
        _connection = connection;
        _ticket = ticket;
        _trace = trace;
        _decoder = ctx.NewDecoder();
    }

    public static Props Props(SessionContext ctx, IConnection connection, SessionTicket ticket, WireTrace? trace = null) =>
        Akka.Actor.Props.CreateBy(new Producer(ctx, connection, ticket, trace));

    /// <summary>
    /// One Props for every session of a listener (a Props, its Deploy and its producer cost about 180 bytes, held as
    /// long as the actor lives): each session finds its own parts in <see cref="SessionContext.Handoff"/>.
    /// </summary>
    public static Props SharedProps(SessionContext ctx) => Akka.Actor.Props.CreateBy(new SharedProducer(ctx));

    // The conversation writes the session's replies into it (explicit, apart from the lifecycle's Advance(Signal)).
    void IBufferWriter<byte>.Advance(int count) => _output.Advance(count);

    Memory<byte> IBufferWriter<byte>.GetMemory(int sizeHint) => _output.GetMemory(sizeHint);

    Span<byte> IBufferWriter<byte>.GetSpan(int sizeHint) => _output.GetSpan(sizeHint);

    private long NowTicks => Context.System.Scheduler.Now.UtcTicks;

    private bool Named => _ticket.Name is not null;

    protected override void PreStart()
    {
        // Start before the first write, so the greeting cannot overtake the registration.
        _connection.Start(Self);
        _ctx.Conversation.Greet(this);
        Flush();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Readable:
                OnReadable();
                break;
            case Received received:
                OnBytes(received.Buffer, received.Count, borrowed: false);
                break;
            case WriteCompleted:
                OnWriteCompleted();
                break;
            case FileEnded:
                OnFileEnded();
                break;
            case WatchDownload watch:
                OnWatchDownload(watch.Transfer);
                break;
            case PeerClosed:
                Advance(Signal.PeerFinished);
                break;
            case Closed closed:
                OnClosed(closed.Kind);
                break;
            case SessionTimeout timeout:
                OnTimeout(timeout);
                break;
            case ServerShuttingDown:
                OnShutdown();
                break;
            case DrainExpired:
                if (_state is not ConnectionState.Lingering) Abort(CloseReason.DrainTimeout);
                break;
            case CloseNow or LingerExpired:
                Advance(Signal.StopLingering);
                break;
            case WhoReply who:
                if (AwaitingAnswer) _ctx.Conversation.WriteWho(who.Names, who.Partial, this);
                OnAnswered();
                break;
            case NodesReply nodes:
                if (AwaitingAnswer) _ctx.Conversation.WriteNodes(nodes.Nodes, this);
                OnAnswered();
                break;
            case ClusterSummary cluster:
                if (AwaitingAnswer) _ctx.Conversation.WriteStats(cluster, this);
                OnAnswered();
                break;
            case ListDone list:
                if (AwaitingAnswer) _ctx.Conversation.WriteList(list.Folder, list.Result, this);
                OnAnswered();
                break;
            case GetPrepared prepared:
                OnGetPrepared(prepared);
                break;
            case ChunkRead read:
                OnChunkRead(read.Bytes);
                break;
            case ChunkFailed failed:
                OnChunkFailed(failed.Cause);
                break;
            default:
                Unhandled(message);
                break;
        }
    }

    /// <summary>The one place the lifecycle moves: the current state and a signal pick the next state.</summary>
    private void Advance(Signal signal)
    {
        switch (_state, signal)
        {
            case (ConnectionState.Open, Signal.PeerFinished):
                _state = ConnectionState.PeerClosed;
                Continue();
                break;
            case (ConnectionState.Open or ConnectionState.PeerClosed, Signal.LastLineQueued):
                _state = ConnectionState.Closing;
                ReleaseInput();
                _connection.SuspendReading();
                Flush();
                if (!_writing) Advance(Signal.WritesDrained);
                break;
            case (ConnectionState.Closing, Signal.WritesDrained):
                _state = ConnectionState.Lingering;
                // The listener hears of the end before our FIN leaves: a client that reconnects on seeing the FIN
                // must find its place already free (its new accept is queued behind this message).
                _ticket.End();
                Context.Parent.Tell(new SessionEnded(_ticket, _closeReason!.Value));
                // The transport sends our FIN and reports Closed once the client's arrives (at once if it already has).
                _connection.HalfClose();
                _linger = Context.System.Scheduler.ScheduleTellOnceCancelable(_ctx.Settings.CloseLinger, Self, LingerExpired.Instance, Self);
                break;
            case (ConnectionState.Lingering, Signal.StopLingering):
                // The client has not closed its side. Close ours fully, but gracefully: bytes the kernel still holds
                // for a slow reader (the end of a file) are delivered after us; a reset would destroy them.
                _connection.Close();
                Stop();
                break;
            case (_, Signal.ConnectionGone):
                Stop();
                break;
            // Anything else is news that no longer matters: a client FIN while we close, a linger timer that raced.
        }
    }

    private void Stop()
    {
        _state = ConnectionState.Gone;
        Context.Stop(Self);
    }

    protected override void PostStop()
    {
        // A session that stops for any other reason than its connection's end (a crash, a drain deadline) must
        // not leave the socket open behind it.
        if (_state != ConnectionState.Gone) _connection.Abort();
        _linger?.Cancel();
        _ticket.End();
        _transfer?.End(_writing);
        _decoder.Dispose();
        ReleaseInput();
        // A write still in flight may still be read by the transport, so only an idle buffer goes back to the pool.
        if (!_writing) _output.Release();
        var reason = _closeReason ?? CloseReason.Crash;
        Context.Parent.Tell(new SessionStopped(_ticket, reason));
        _ctx.Logger.LogDebug("Connection {ConnectionId} from {Remote} ({Name}) closed: {CloseReason}",
            _ticket.Id, _ticket.Remote, _ticket.Name, reason);
    }

    /// <summary>The connection has bytes for us: read them into the thread's buffer and process them in this turn.</summary>
    private void OnReadable()
    {
        var buffer = TurnBuffer.ForThisThread;
        var n = _connection.Read(buffer);
        if (n > 0) OnBytes(buffer, n, borrowed: true);
    }

    /// <summary>
    /// Bytes from the client, in a pooled buffer that is now the session's, or <paramref name="borrowed"/> for this
    /// turn only.
    /// </summary>
    private void OnBytes(byte[] buffer, int count, bool borrowed)
    {
        _trace?.Received(buffer.AsSpan(0, count));
        if (_state != ConnectionState.Open)
        {
            if (!borrowed) ArrayPool<byte>.Shared.Return(buffer);
            return;
        }
        _readAsked = false;
        _ticket.Touch(NowTicks);
        _ctx.Stats.AddBytesIn(count);
        if (_input is null)
        {
            (_input, _inputStart, _inputEnd, _inputBorrowed) = (buffer, 0, count, borrowed);
        }
        else
        {
            // The transport delivers one read per ResumeReading, so this is rare: keep the unread rest and the new bytes.
            var held = _inputEnd - _inputStart;
            var joined = ArrayPool<byte>.Shared.Rent(held + count);
            _input.AsSpan(_inputStart, held).CopyTo(joined);
            buffer.AsSpan(0, count).CopyTo(joined.AsSpan(held));
            if (!borrowed) ArrayPool<byte>.Shared.Return(buffer);
            ReleaseInput();
            (_input, _inputStart, _inputEnd) = (joined, 0, held + count);
        }
        _touchedThisTurn = true;
        Continue();
        _touchedThisTurn = false;
        if (_inputBorrowed && _input is not null) KeepInput();
    }

    /// <summary>The thread's buffer is lent for one turn: what is still unprocessed moves to a pooled copy.</summary>
    private void KeepInput()
    {
        var rest = _inputEnd - _inputStart;
        var kept = ArrayPool<byte>.Shared.Rent(rest);
        _input.AsSpan(_inputStart, rest).CopyTo(kept);
        (_input, _inputStart, _inputEnd, _inputBorrowed) = (kept, 0, rest, false);
    }

    /// <summary>Processes what can be processed now, reads only if there is room, and sends what is ready.</summary>
    private void Continue()
    {
        var requests = 0;
        while (true)
        {
            requests += ProcessInput();
            if (_state == ConnectionState.PeerClosed && _input is null && CanProcessRequests)
            {
                if (_decoder.Finish(out var last) == DecodeEvent.Request)
                {
                    requests++;
                    OnRequest(last);
                }
                if (CanProcessRequests) Close(CloseReason.PeerClosed, null);
            }
            // Ask for the next bytes before sending the replies: a client that answers at once finds the read waiting.
            UpdateReading();
            Flush();
            // A transport that took the writes at once has just made room for the requests still held.
            if (_writing || _input is null || !CanProcessRequests) break;
        }
        // The flush emptied the pending replies: a client held back by them may be read again.
        UpdateReading();
        if (requests > 0) _ctx.Stats.AddRequests(requests);
    }

    /// <summary>Decodes and answers the requests in hand while the session may; returns how many it answered.</summary>
    private int ProcessInput()
    {
        var requests = 0;
        while (CanProcessRequests && _input is not null)
        {
            var ev = _decoder.Decode(_input.AsSpan(_inputStart, _inputEnd - _inputStart), out var consumed, out var request);
            _inputStart += consumed;
            switch (ev)
            {
                case DecodeEvent.Request:
                    requests++;
                    OnRequest(request);
                    break;
                case DecodeEvent.TooLong:
                    requests++;
                    _ctx.Conversation.OnTooLong(Named, this);
                    break;
                case DecodeEvent.TimingMark:
                    // A telnet Ctrl-C waits for this answer, discarding output until it comes, then goes on.
                    _output.Write(Telnet.WontTimingMark);
                    break;
            }
            // Only now: a request's bytes may lie in the input buffer. NeedMore means the decoder took everything.
            if (_inputStart >= _inputEnd || ev == DecodeEvent.NeedMore) ReleaseInput();
        }
        return requests;
    }

    private void OnRequest(ReadOnlySpan<byte> line)
    {
        var step = _ctx.Conversation.OnRequest(line, Named, this);
        switch (step.Kind)
        {
            case StepKind.Named:
                _ticket.Named(step.Argument!);
                break;
            case StepKind.Close:
                Close(step.Reason, null);
                break;
            case StepKind.Key:
                _ctx.Conversation.WriteKey(_ctx.Keys.KeyOf(_ticket), this);
                break;
            case StepKind.Who:
                _work = Work.Waiting;
                Context.Parent.Tell(WhoRequest.Instance);
                break;
            case StepKind.Nodes:
                _work = Work.Waiting;
                Context.Parent.Tell(NodesRequest.Instance);
                break;
            case StepKind.Stats:
                _work = Work.Waiting;
                Context.Parent.Tell(StatsRequest.Instance);
                break;
            case StepKind.List:
                StartList(step.Argument!);
                break;
            case StepKind.Get:
                StartGet(step.Get!);
                break;
        }
    }

    private bool CanProcessRequests =>
        _state is ConnectionState.Open or ConnectionState.PeerClosed && _work == Work.Ready
        && _output.Count < _ctx.Settings.MaxPendingWriteBytes;

    /// <summary>Reads while requests can be processed; otherwise lets TCP push back on the client.</summary>
    /// <remarks>
    /// Each ResumeReading asks for one read, so the session asks only when it has no request out: asking twice for
    /// one read would let reads outrun the session and pile up in its mailbox.
    /// </remarks>
    private void UpdateReading()
    {
        if (_state != ConnectionState.Open) return;
        var room = _input is null && _output.Count < _ctx.Settings.MaxPendingWriteBytes;
        if (room == _readAsked) return;
        _readAsked = room;
        if (room) _connection.ResumeReading();
        else _connection.SuspendReading();
    }

    private void ReleaseInput()
    {
        if (_input is null) return;
        if (!_inputBorrowed) ArrayPool<byte>.Shared.Return(_input);
        _input = null;
        _inputBorrowed = false;
    }

    /// <summary>Keeps one write in flight; what is produced meanwhile waits in the pending buffer.</summary>
    private void Flush()
    {
        if (_writing || _output.Count == 0 || _state == ConnectionState.Gone) return;
        var data = _output.TakeAll(out var rented);
        Write(data, rented);
    }

    /// <summary>Writes; when the transport takes the bytes at once, the write is complete on return.</summary>
    private void Write(ReadOnlyMemory<byte> data, byte[]? rented)
    {
        _writing = true;
        _inFlight = rented;
        _ctx.Stats.AddBytesOut(data.Length);
        _trace?.Sent(data.Span);
        if (_connection.Write(data)) CompleteWrite();
        else if (_transfer is { } transfer) Watch(transfer);
    }

    private void CompleteWrite()
    {
        _writing = false;
        if (_inFlight is not null)
        {
            ArrayPool<byte>.Shared.Return(_inFlight);
            _inFlight = null;
        }
        if (_state != ConnectionState.Lingering && !_touchedThisTurn) _ticket.Touch(NowTicks);
    }

    private void OnWriteCompleted()
    {
        CompleteWrite();
        switch (_state)
        {
            case ConnectionState.Closing:
                Flush();
                if (!_writing) Advance(Signal.WritesDrained);
                return;
            case ConnectionState.Open or ConnectionState.PeerClosed when _work == Work.Streaming:
                Flush();
                if (!_writing) ReadNextChunk();
                return;
            case ConnectionState.Open or ConnectionState.PeerClosed:
                Continue();
                return;
        }
    }

    /// <summary>Says the last line (if any) after every reply already queued, then closes gracefully.</summary>
    private void Close(CloseReason reason, string? lastLine)
    {
        if (_state is not (ConnectionState.Open or ConnectionState.PeerClosed)) return;
        _closeReason = reason;
        if (lastLine is not null) _ctx.Conversation.Reply(this, lastLine);
        Advance(Signal.LastLineQueued);
    }

    /// <summary>Resets the connection and stops: nothing more can be said to this client.</summary>
    private void Abort(CloseReason reason)
    {
        if (_state == ConnectionState.Gone) return;
        _closeReason ??= reason;
        _connection.Abort();
        Stop();
    }

    private void OnClosed(CloseKind kind)
    {
        if (_state == ConnectionState.Gone) return;
        if (_state != ConnectionState.Lingering)
        {
            _closeReason ??= kind switch
            {
                CloseKind.Graceful => CloseReason.PeerClosed,
                CloseKind.HandshakeFailed => CloseReason.TlsFailed,
                _ => CloseReason.Reset,
            };
            if (kind != CloseKind.Graceful) _ctx.Logger.LogDebug("Connection {ConnectionId} failed: {CloseKind}", _ticket.Id, kind);
        }
        Advance(Signal.ConnectionGone);
    }

    private void OnTimeout(SessionTimeout timeout)
    {
        if (!_connection.Established)
        {
            // The handshake clock covers the TLS handshake too; a line now could not be read, so none is sent.
            Abort(CloseReason.TlsFailed);
            return;
        }
        switch (_state)
        {
            case ConnectionState.Closing:
                // The last line never drained: the client stopped reading. Nothing more can be said.
                Abort(timeout.Reason);
                break;
            case ConnectionState.Open or ConnectionState.PeerClosed when _work == Work.Streaming:
                // Its line would land inside the file's bytes: the transfer is cut without it.
                Abort(timeout.Reason);
                break;
            case ConnectionState.Open or ConnectionState.PeerClosed:
                Close(timeout.Reason, timeout.LastLine);
                break;
        }
    }

    private void OnShutdown()
    {
        if (_work == Work.Streaming) _shutdownAfterTransfer = true;
        else Close(CloseReason.Shutdown, Replies.ShuttingDown);
    }

    /// <summary>An answer from elsewhere (WHO, LIST) is what the waiting requests are held for.</summary>
    private bool AwaitingAnswer => _work == Work.Waiting && _state is ConnectionState.Open or ConnectionState.PeerClosed;

    private void OnAnswered()
    {
        if (!AwaitingAnswer) return;
        _work = Work.Ready;
        Continue();
    }

    private void StartList(string folder)
    {
        var store = _ctx.Files.Store;
        var max = _ctx.Settings.MaxListEntries;
        _work = Work.Waiting;
        // Walking a large tree blocks on the file system: it runs on the thread pool and the answer comes back
        // as a message, while this client's later requests wait their turn.
        Task.Run(() => new ListDone(folder, store.List(folder, max))).PipeTo(Self, failure: _ => new ListDone(folder,
            new ListResult(LookupStatus.NotFound, [], false)));
    }

    private void StartGet(GetRequest request)
    {
        var files = _ctx.Files;
        _work = Work.Waiting;
        // The lookup and the open block on the file system too.
        Task.Run(() => new GetPrepared(request, files.Prepare(request))).PipeTo(Self, failure: _ => new GetPrepared(request, GetPlan.NotFound));
    }

    private void OnGetPrepared(GetPrepared prepared)
    {
        var plan = prepared.Plan;
        if (_work != Work.Waiting || _state is not (ConnectionState.Open or ConnectionState.PeerClosed))
        {
            // The session moved on (a timeout, a drain) while the file was being opened: give it back.
            if (plan.Outcome == GetOutcome.Ready)
            {
                plan.Handle!.Dispose();
                _ctx.Files.Downloads.End();
            }
            return;
        }
        _ctx.Conversation.WriteGet(prepared.Request, plan, this);
        if (plan.Outcome != GetOutcome.Ready)
        {
            _work = Work.Ready;
            Continue();
            return;
        }
        _work = Work.Streaming;
        _transfer = new Transfer(prepared.Request.Path, plan, _ctx.Encoder, _ctx.Files.Downloads, _connection.CanSendFile);
        // The OK line goes out first; the first chunk is read once it has.
        Flush();
        if (!_writing) ReadNextChunk();
    }

    private void ReadNextChunk()
    {
        var transfer = _transfer!;
        if (transfer.Reading) return;
        if (transfer.Complete)
        {
            FinishTransfer();
            return;
        }
        if (transfer.Direct)
        {
            SendNextRange(transfer);
            return;
        }
        transfer.ReadNextAsync().PipeTo(Self, success: n => new ChunkRead(n), failure: e => new ChunkFailed(e));
    }

    /// <summary>
    /// The next range goes from the file to the socket in the kernel. When it is taken at once the next one waits for
    /// a message to self all the same, so that one fast download never holds its loop for more than a range.
    /// </summary>
    private void SendNextRange(Transfer transfer)
    {
        var (offset, count) = transfer.NextRange();
        _writing = true;
        _ctx.Stats.AddBytesOut(count);
        _trace?.SentFile(count);
        if (_connection.SendFile(transfer.Handle, offset, count)) Self.Tell(WriteCompleted.Instance);
        else Watch(transfer);
    }

    /// <summary>
    /// A download's write waits for its client. The session looks at it three times per idle timeout and counts the
    /// bytes the kernel took meanwhile as activity: a client that keeps reading, however slowly, is not idle (a range
    /// can take longer than the idle timeout to reach a slow client), and one that stopped reading still is.
    /// </summary>
    private void Watch(Transfer transfer)
    {
        transfer.Watch ??= Context.System.Scheduler.ScheduleTellOnceCancelable(
            _ctx.Settings.IdleTimeout / 3, Self, new WatchDownload(transfer), ActorRefs.NoSender);
        transfer.UnsentSeen = _connection.Unsent;
    }

    private void OnWatchDownload(Transfer transfer)
    {
        transfer.Watch = null;
        // The download ended or its write completed (which counted as activity) since the look was asked for.
        if (!ReferenceEquals(transfer, _transfer) || !_writing) return;
        if (_connection.Unsent < transfer.UnsentSeen) _ticket.Touch(NowTicks);
        Watch(transfer);
    }

    private void OnFileEnded()
    {
        CompleteWrite();
        var transfer = _transfer;
        if (transfer is null) return;
        // The file shrank under us: the client must see fewer bytes than promised, so it can tell.
        _ctx.Logger.LogWarning("Connection {ConnectionId} GET {Path} ended before {Length} bytes: the file is shorter now",
            _ticket.Id, transfer.Path, transfer.Length);
        Abort(CloseReason.TransferFailed);
    }

    private void OnChunkRead(int bytes)
    {
        var transfer = _transfer;
        if (transfer is null) return;
        if (bytes == 0)
        {
            transfer.ReadFailed();
            // The file shrank under us: the client must see fewer bytes than promised, so it can tell.
            _ctx.Logger.LogWarning("Connection {ConnectionId} GET {Path} ended after {Sent} of {Length} bytes: the file is shorter now",
                _ticket.Id, transfer.Path, transfer.Sent, transfer.Length);
            Abort(CloseReason.TransferFailed);
            return;
        }
        // The buffer is handed to the transport without a copy: it is read into again only after this write completes.
        Write(transfer.Framed(bytes), rented: null);
        if (!_writing) ReadNextChunk();
    }

    private void OnChunkFailed(Exception cause)
    {
        var transfer = _transfer;
        if (transfer is null) return;
        transfer.ReadFailed();
        _ctx.Logger.LogWarning(cause, "Connection {ConnectionId} GET {Path} failed after {Sent} of {Length} bytes",
            _ticket.Id, transfer.Path, transfer.Sent, transfer.Length);
        Abort(CloseReason.TransferFailed);
    }

    private void FinishTransfer()
    {
        _transfer!.End(_writing);
        _transfer = null;
        _work = Work.Ready;
        if (_shutdownAfterTransfer) Close(CloseReason.Shutdown, Replies.ShuttingDown);
        else Continue();
    }

    private sealed class LingerExpired
    {
        public static readonly LingerExpired Instance = new();
        private LingerExpired() { }
    }

    private sealed record ChunkRead(int Bytes);

    private sealed record WatchDownload(Transfer Transfer);

    private sealed record ChunkFailed(Exception Cause);

    private sealed record ListDone(string Folder, ListResult Result);

    private sealed record GetPrepared(GetRequest Request, GetPlan Plan);

    private sealed class Producer(SessionContext ctx, IConnection connection, SessionTicket ticket, WireTrace? trace)
        : IIndirectActorProducer
    {
        public Type ActorType => typeof(SessionActor);

        public ActorBase Produce() => new SessionActor(ctx, connection, ticket, trace);

        public void Release(ActorBase actor) { }
    }

    private sealed class SharedProducer(SessionContext ctx) : IIndirectActorProducer
    {
        public Type ActorType => typeof(SessionActor);

        public ActorBase Produce() => new SessionActor(ctx);

        public void Release(ActorBase actor) { }
    }
}
