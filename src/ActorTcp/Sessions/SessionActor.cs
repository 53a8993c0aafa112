using System.Buffers;
using ActorTcp.Transport;
using ActorTcp.Protocol;
using Akka.Actor;
using Akka.IO;
using Microsoft.Extensions.Logging;
using Tcp = Akka.IO.Tcp;

namespace ActorTcp.Sessions;

/// <summary>
/// One client: framing, the name dialog, commands and file transfers, with flow-controlled writes.
/// This file holds the transport side (bytes in, acked writes out, closing); the dialog and commands are in
/// SessionActor.Commands.cs, LIST and GET in SessionActor.Files.cs.
/// </summary>
/// <remarks>
/// The phases are a field and one receive method rather than <c>Become</c> behaviours: every phase handles the
/// same transport events, and a per-session delegate per behaviour would cost memory on every connection.
/// </remarks>
public sealed partial class SessionActor : UntypedActor
{
    private enum Phase
    {
        /// <summary>Waiting for a name.</summary>
        Dialog,
        /// <summary>Named; reading commands.</summary>
        Command,
        /// <summary>A reply depends on an answer from elsewhere (WHO, LIST); requests wait behind it.</summary>
        Waiting,
        /// <summary>A GET is sending file bytes; requests wait behind it.</summary>
        Streaming,
        /// <summary>The last line is written or being written; the connection is closing.</summary>
        Closing,
    }

    private readonly SessionContext _ctx;
    private readonly IConnection _connection;
    private readonly SessionTicket _ticket;
    private readonly IRequestDecoder _decoder;
    private readonly PendingOutput _output = new();

    private Phase _phase = Phase.Dialog;
    private ByteString? _input;
    private int _inputOffset;
    private bool _writing;
    private byte[]? _inFlight;
    private bool _peerClosed;
    private bool _connectionGone;
    private bool _closeSent;
    private bool _shutdownRequested;
    private CloseReason? _closeReason;
    private ICancelable? _linger;

    public SessionActor(SessionContext ctx, IConnection connection, SessionTicket ticket)
    {
        _ctx = ctx;
        _connection = connection;
        _ticket = ticket;
        _decoder = ctx.NewDecoder();
    }

    public static Props Props(SessionContext ctx, IConnection connection, SessionTicket ticket) =>
        Akka.Actor.Props.CreateBy(new Producer(ctx, connection, ticket));

    private long NowTicks => Context.System.Scheduler.Now.UtcTicks;

    protected override void PreStart()
    {
        // Register before the first write, so the greeting cannot overtake the registration.
        _connection.Register(Self);
        Reply("Welcome!");
        Reply("What's your name?");
        Flush();
    }

    protected override void OnReceive(object message)
    {
        switch (message)
        {
            case Tcp.Received received:
                OnReceived(received.Data);
                break;
            case WriteAcked:
                OnWriteAcked();
                break;
            case Tcp.PeerClosed:
                _peerClosed = true;
                Continue();
                break;
            case Tcp.ConnectionClosed closed:
                OnConnectionGone(closed);
                break;
            case Tcp.CommandFailed failed:
                // A write the transport refused (its queue overflowed): the connection cannot be trusted.
                _ctx.Logger.LogDebug("Connection {ConnectionId} command failed: {Cause}", _ticket.Id, failed.CauseString);
                Abort(CloseReason.Reset);
                break;
            case SessionTimeout timeout:
                OnTimeout(timeout);
                break;
            case ServerShuttingDown:
                OnShutdown();
                break;
            case DrainExpired:
                Abort(CloseReason.DrainTimeout);
                break;
            case LingerExpired:
                // The client has not closed its side. Close ours fully, but gracefully: bytes the kernel still holds
                // for a slow reader (the end of a file) are delivered after us; a reset would destroy them.
                _connection.Close(peerAlreadyClosed: true);
                break;
            case WhoReply who:
                OnWhoReply(who);
                break;
            default:
                if (!OnFileMessage(message)) Unhandled(message);
                break;
        }
    }

    protected override void PostStop()
    {
        // A session that stops for any other reason than its connection's end (a crash, a drain deadline) must
        // not leave the socket open behind it.
        if (!_connectionGone) _connection.Abort();
        _linger?.Cancel();
        _ticket.End();
        EndTransfer();
        _decoder.Dispose();
        // A write still in flight may still be read by the transport, so only an idle buffer goes back to the pool.
        _output.Release();
        var reason = _closeReason ?? CloseReason.Crash;
        _ctx.Stats.ConnectionEnded(reason);
        _ctx.Logger.LogDebug("Connection {ConnectionId} from {Remote} ({Name}) closed: {CloseReason}",
            _ticket.Id, _ticket.Remote, _ticket.Name, reason);
    }

    private void OnReceived(ByteString data)
    {
        if (_phase == Phase.Closing) return;
        _ticket.Touch(NowTicks);
        _ctx.Stats.AddBytesIn(data.Count);
        if (_input is null)
        {
            _input = data;
            _inputOffset = 0;
        }
        else
        {
            // Reads that raced our SuspendReading: few, and bounded by the transport's read size.
            _input = _input.Slice(_inputOffset).Concat(data).Compact();
            _inputOffset = 0;
        }
        Continue();
    }

    /// <summary>Processes what can be processed now, sends what is ready, and reads only if there is room.</summary>
    private void Continue()
    {
        do
        {
            Flush();
            ProcessInput();
            Flush();
            // A transport that takes writes at once has just made room for more requests.
        }
        while (CanProcessRequests && _input is not null);

        if (_peerClosed && _input is null && CanProcessRequests)
        {
            if (_decoder.Finish(out var last) == DecodeEvent.Request) OnRequest(last);
            if (_phase is Phase.Dialog or Phase.Command) BeginClose(CloseReason.PeerClosed, null);
        }

        Flush();
        UpdateReading();
    }

    private void ProcessInput()
    {
        while (CanProcessRequests && _input is not null)
        {
            var span = _input.ToReadOnlySpan()[_inputOffset..];
            var ev = _decoder.Decode(span, out var consumed, out var request);
            _inputOffset += consumed;
            if (_inputOffset >= _input.Count)
            {
                _input = null;
                _inputOffset = 0;
            }
            switch (ev)
            {
                case DecodeEvent.NeedMore:
                    // The decoder holds the partial request; a decoder that returned this without consuming the
                    // input would otherwise be asked again forever.
                    _input = null;
                    _inputOffset = 0;
                    break;
                case DecodeEvent.Request:
                    OnRequest(request);
                    break;
                case DecodeEvent.TooLong:
                    Reply(_ctx.TooLongLine);
                    if (_phase == Phase.Dialog) Reply("What's your name?");
                    break;
                case DecodeEvent.TimingMark:
                    // A telnet Ctrl-C waits for this answer, discarding output until it comes, then goes on.
                    _output.Write(Telnet.WontTimingMark);
                    break;
            }
        }
    }

    private bool CanProcessRequests =>
        _phase is Phase.Dialog or Phase.Command && _output.Count < _ctx.Settings.MaxPendingWriteBytes;

    /// <summary>Reads while requests can be processed; otherwise lets TCP push back on the client.</summary>
    private void UpdateReading()
    {
        if (_phase == Phase.Closing || _peerClosed) return;
        if (_input is not null || _output.Count >= _ctx.Settings.MaxPendingWriteBytes) _connection.SuspendReading();
        else _connection.ResumeReading();
    }

    private void Reply(string line) => _ctx.Encoder.WriteLine(_output, line);

    /// <summary>Keeps one write in flight; what is produced meanwhile waits in the pending buffer.</summary>
    private void Flush()
    {
        if (_writing || _output.Count == 0) return;
        var count = _output.Count;
        var data = _output.TakeAll(out var rented);
        WriteToTransport(data, count, rented);
    }

    /// <summary>Writes; when the transport takes the bytes at once, the write is complete on return.</summary>
    private void WriteToTransport(ByteString data, int count, byte[]? rented)
    {
        _writing = true;
        _inFlight = rented;
        _ctx.Stats.AddBytesOut(count);
        if (_connection.Write(data)) CompleteWrite();
    }

    private void CompleteWrite()
    {
        _writing = false;
        if (_inFlight is not null)
        {
            ArrayPool<byte>.Shared.Return(_inFlight);
            _inFlight = null;
        }
        if (_phase != Phase.Closing) _ticket.Touch(NowTicks);
    }

    private void OnWriteAcked()
    {
        CompleteWrite();
        if (_phase == Phase.Closing)
        {
            Flush();
            if (!_writing) SendClose();
            return;
        }

        if (_phase == Phase.Streaming)
        {
            OnTransferWriteAcked();
            return;
        }
        Continue();
    }

    /// <summary>Says the last line (if any) after every reply already queued, then closes gracefully.</summary>
    private void BeginClose(CloseReason reason, string? lastLine)
    {
        if (_phase == Phase.Closing) return;
        _phase = Phase.Closing;
        _closeReason = reason;
        _input = null;
        if (lastLine is not null) Reply(lastLine);
        Flush();
        if (!_writing) SendClose();
    }

    private void SendClose()
    {
        if (_closeSent) return;
        _closeSent = true;
        _connection.Close(_peerClosed);
        // Our FIN is out; the client's should follow. One that keeps its side open is closed after close-linger,
        // so a finished client cannot hold its slot, or a shutdown, for long.
        if (!_peerClosed)
            _linger = Context.System.Scheduler.ScheduleTellOnceCancelable(_ctx.Settings.CloseLinger, Self, LingerExpired.Instance, Self);
    }

    private void Abort(CloseReason reason)
    {
        _closeReason ??= reason;
        _phase = Phase.Closing;
        _connection.Abort();
        _connectionGone = true;
        // Akka.IO answers an abort with Aborted, but a transport that is already gone may not: stop now.
        Context.Stop(Self);
    }

    private void OnConnectionGone(Tcp.ConnectionClosed closed)
    {
        _connectionGone = true;
        _closeReason ??= closed.IsErrorClosed || closed.IsAborted ? CloseReason.Reset : CloseReason.PeerClosed;
        if (closed.IsErrorClosed)
            _ctx.Logger.LogDebug("Connection {ConnectionId} failed: {Cause}", _ticket.Id, closed.Cause);
        Context.Stop(Self);
    }

    private void OnTimeout(SessionTimeout timeout)
    {
        switch (_phase)
        {
            case Phase.Closing:
                // The last line never drained: the client stopped reading. Nothing more can be said.
                Abort(_closeReason ?? timeout.Reason);
                break;
            case Phase.Streaming:
                // Its line would land inside the file's bytes: the transfer is cut without it.
                Abort(timeout.Reason);
                break;
            default:
                BeginClose(timeout.Reason, timeout.LastLine);
                break;
        }
    }

    private void OnShutdown()
    {
        if (_phase == Phase.Streaming)
        {
            _shutdownRequested = true;
            return;
        }
        BeginClose(CloseReason.Shutdown, "ERR server shutting down");
    }

    private sealed class LingerExpired
    {
        public static readonly LingerExpired Instance = new();
        private LingerExpired() { }
    }

    private sealed class Producer(SessionContext ctx, IConnection connection, SessionTicket ticket) : IIndirectActorProducer
    {
        public Type ActorType => typeof(SessionActor);

        public ActorBase Produce() => new SessionActor(ctx, connection, ticket);

        public void Release(ActorBase actor) { }
    }
}
