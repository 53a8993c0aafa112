// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Akka.Actor;
using Akka.Dispatch;
using Microsoft.Win32.SafeHandles;

namespace ActorTcp.Transport;

/// <summary>
/// A plain socket behind the session's seam, without a connection actor: a .NET <see cref="Socket"/>, or where the
/// epoll loops accepted it a bare descriptor. An idle connection waits
/// for readiness from the <see cref="EpollLoops"/> (or, where they cannot run, on a zero-byte receive) and holds no
/// buffer. Reads are pulled one at a time by the session, each done without blocking: with the loops the session is
/// told that bytes wait and reads them itself, in its own turn, into its thread's buffer (nothing is allocated or
/// copied per read); without them each read is handed over in a pooled buffer of its own size. A write goes straight
/// to the kernel from the session's own turn, with no message unless
/// the kernel's buffer is full. With the loops, what the kernel could not take is finished from the loop when the
/// socket has room again, and a file's bytes go from the page cache to the socket without a copy (sendfile(2)).
/// </summary>
internal sealed class SocketConnection : IConnection, IPollable
{

    /// <summary>Reads one turn makes at most for a socket that keeps coming back full, before other sockets' events.</summary>
    private const int ReadsPerTurn = 4;

    /// <summary>How much unread input a graceful close reads away before letting go (so the kernel does not reset).</summary>
    private const int DiscardReads = 64;

    // The reads the connection makes itself land here (without the loops, copied out at their real size into a
    // pooled buffer; or read away while closing). It is used only inside one synchronous receive on one thread, so
    // one per thread serves every connection; not the TurnBuffer, which a session's turn may hold while a close it
    // makes reads away what is left.
    [ThreadStatic] private static byte[]? t_readBuffer;

    // The connection's state is guarded by a lock on the connection itself (24 bytes less per client than a lock
    // object of its own); nothing outside this class ever locks on it.
    private readonly Socket? _socket;
    private readonly SafeHandle _handle;
    private readonly EpollLoops? _loops = EpollLoops.Supported ? EpollLoops.Instance : null;
    private EpollLoops.Registration _registration;
    private readonly int _fd;
    private IActorRef _session = ActorRefs.Nobody;
    private ReadDemand _demand = new();
    private bool _sending;
    private bool _finAfterSend;
    private bool _halfClosed;
    private bool _finSent;
    private bool _peerFinished;
    private bool _gone;

    // With the loops, which tell of changes only (edge-triggered): whether bytes may be waiting (the loop said so and
    // no read has found the socket empty since), whether the session has been told so and has not read yet, whether
    // a write waits for room, and how many events of each kind
    // came, so that a read or a write racing with a new event sees it (all under the lock). Then the write the
    // kernel could not take at once, finished from the loop when there is room (only the session writes, one write
    // at a time, so these are its).
    private bool _readable;
    private bool _endSeen;
    private bool _readableSent;
    private int _readEvents;
    private bool _awaitingRoom;
    private int _writeEvents;
    private ReadOnlyMemory<byte> _pendingBytes;
    private SafeFileHandle? _pendingFile;
    private long _fileOffset;
    private long _fileLeft;
    private bool _nonBlocking;

    private enum Progress { Done, Blocked, Failed, FileEnded }

    /// <summary>What one read found: the end or an error (Over), nothing (Empty), less than a buffer (Short), a full buffer.</summary>
    private enum ReadOutcome { Over, Empty, Short, Full }

    public SocketConnection(Socket socket)
    {
        _socket = socket;
        _handle = socket.SafeHandle;
        _socket.NoDelay = true;
        _fd = (int)socket.Handle;
        // Synchronous sends and receives must never block the session's thread: they take what there is and say so.
        // With the epoll loops they are made without waiting by their own flag (MSG_DONTWAIT), which spares the
        // socket the asynchronous state .NET creates for one switched to non-blocking.
        if (_loops is null) _socket.Blocking = false;
    }

    /// <summary>A connection the epoll loops accepted, as a bare descriptor (only where the loops run).</summary>
    public SocketConnection(SocketDescriptor descriptor)
    {
        if (_loops is null) throw new NotSupportedException("a bare descriptor needs the epoll loops");
        _handle = descriptor;
        _fd = descriptor.Fd;
        // TCP_NODELAY is already on: an accepted socket inherits it from its listening socket (SocketAcceptor).
    }

    public bool Established => true;

    public void Start(IActorRef session)
    {
        _session = session;
        if (_loops is null)
        {
            _ = ReadLoopAsync();
            return;
        }
        // Registered under the lock, so that the first event (at once if bytes are already there) waits for it.
        // The socket stays registered, and the descriptor is removed from epoll and closed under the same lock,
        // so the loop can never be told about a number the kernel has already given to another connection.
        lock (this) _registration = _loops.Register(_fd, this, edges: true);
    }

    public void OnReady(bool readable, bool writable, bool ended)
    {
        bool writeNow = false;
        int writeEvents;
        lock (this)
        {
            if (_gone) return;
            if (readable)
            {
                _readable = true;
                _readEvents++;
            }
            // The client's FIN (or a reset) is queued behind whatever bytes came with it, and brings no second event.
            if (ended) _endSeen = true;
            if (writable)
            {
                _writeEvents++;
                writeNow = _awaitingRoom;
                _awaitingRoom = false;
            }
            writeEvents = _writeEvents;
        }
        if (writeNow) OnWritable(writeEvents);
        if (readable) PumpReads();
    }

    /// <summary>The session asked for bytes while none was being read: read now if the socket may have some.</summary>
    private void WaitForBytes()
    {
        if (_loops is null) _ = ReadLoopAsync();
        else PumpReads();
    }

    /// <summary>
    /// With the loops: the socket may have bytes. The session that wants them is told so (<see cref="Readable"/>)
    /// and reads them itself, in its own turn (<see cref="Read"/>): no buffer, copy or message is made per read.
    /// A connection that is closing reads here instead, only to find the client's FIN.
    /// </summary>
    private void PumpReads()
    {
        bool discard;
        lock (this)
        {
            // One Readable at a time: the read it leads to looks again at what is left.
            if (_gone || !_readable || _readableSent) return;
            discard = _halfClosed;
            if (!discard)
            {
                if (!_demand.TryTake(discarding: false)) return;
                _readableSent = true;
            }
        }
        if (discard) DiscardUntilEnd();
        else _session.Tell(Readable.Instance, ActorRefs.NoSender);
    }

    public int Read(Span<byte> buffer)
    {
        if (_loops is null) throw new InvalidOperationException("without the loops, reads are delivered as Received");
        int events;
        lock (this)
        {
            // Since the Readable was sent, the connection may have been closed or begun closing (it then reads on
            // its own, for the client's FIN): nothing is handed over.
            if (!_readableSent) return 0;
            _readableSent = false;
            if (_gone || _halfClosed) return 0;
            events = _readEvents;
        }
        int n;
        SocketError error;
        try
        {
            n = ReceiveNow(buffer, out error);
        }
        catch (ObjectDisposedException)
        {
            return 0;
        }
        if (error != SocketError.Success && error != SocketError.WouldBlock)
        {
            Gone(Classify(error));
            return 0;
        }
        if (error == SocketError.Success && n == 0)
        {
            OnEndOfStream();
            return 0;
        }
        var empty = error == SocketError.WouldBlock;
        bool again;
        lock (this)
        {
            // A read shorter than the buffer took all there was, and bytes that come after it bring a new event; a
            // read that raced with a new event leaves the socket marked readable, and so does a known end (the read
            // that finds it is still to come).
            if (n < buffer.Length && !_endSeen && events == _readEvents) _readable = false;
            // Nothing after all: the ask stands. Otherwise the session asks for the next read when it has dealt with this one.
            if (empty) _demand.Restore();
            else _demand.AfterDelivery();
            again = _readable && _demand.Wanted;
        }
        // Bytes may still be waiting (a full read, or an event that raced with this one) and a read is wanted.
        if (again) PumpReads();
        return empty ? 0 : n;
    }

    /// <summary>Closing: reads away what the client still sends, until its FIN (or a socket that keeps coming back full).</summary>
    private void DiscardUntilEnd()
    {
        for (var i = 0; i < ReadsPerTurn; i++)
        {
            int events;
            lock (this)
            {
                if (_gone || !_readable) return;
                events = _readEvents;
            }
            ReadOutcome outcome;
            try
            {
                outcome = ReadOnce(discard: true);
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                Gone(CloseKind.Error);
                return;
            }
            if (outcome == ReadOutcome.Over) return;
            lock (this)
            {
                if (outcome != ReadOutcome.Full && !_endSeen && events == _readEvents)
                {
                    _readable = false;
                    return;
                }
            }
        }
        // A client that keeps the socket full: the rest waits for the loop's next pass, after other sockets' events.
        _loops!.Execute(new ActionRunnable(PumpReads));
    }

    public bool Write(ReadOnlyMemory<byte> data)
    {
        if (_loops is null) return WriteWithoutLoops(data);
        _pendingBytes = data;
        if (Push(Volatile.Read(ref _writeEvents)) == Progress.Blocked) return false;
        // Sent, or the connection is gone and the session hears so by Closed.
        _pendingBytes = default;
        return true;
    }

    public bool CanSendFile => _loops is not null;

    // Read from the session's turn while a loop may be sending: a number read a moment early is still a fair look.
    public long Unsent => _pendingFile is not null ? Volatile.Read(ref _fileLeft) : _pendingBytes.Length;

    public bool SendFile(SafeFileHandle file, long offset, int count)
    {
        if (_loops is null) throw new NotSupportedException("sendfile needs the epoll loops");
        if (!_nonBlocking)
        {
            // sendfile(2) has no per-call flag for not waiting: the descriptor itself must not block.
            NativeSocket.SetNonBlocking(_handle, _fd);
            _nonBlocking = true;
        }
        // Nagle's algorithm while the kernel takes the range. With TCP_NODELAY, each acknowledgement that arrives
        // while sendfile(2) is still filling the last segment sends it short; held back instead, segments leave
        // fuller (fewer of them for the client to take). TCP_NODELAY is back on once the range is done, which sends
        // the range's last bytes at once, so a reply after a download is never held back.
        NoDelay(false);
        _pendingFile = file;
        _fileOffset = offset;
        _fileLeft = count;
        switch (Push(Volatile.Read(ref _writeEvents)))
        {
            case Progress.Blocked:
                return false;
            case Progress.FileEnded:
                EndRange();
                _session.Tell(FileEnded.Instance, ActorRefs.NoSender);
                return false;
            case Progress.Failed:
                // The connection is gone: Closed follows, and the session must not take this as room for the next range.
                _pendingFile = null;
                return false;
            default:
                EndRange();
                return true;
        }
    }

    /// <summary>A range is over (sent, or the file ended before it): TCP_NODELAY back on, which sends what Nagle holds.</summary>
    private void EndRange()
    {
        _pendingFile = null;
        NoDelay(true);
    }

    /// <summary>
    /// TCP_NODELAY off for a range, on again when the range is done or the file ended. A connection closed meanwhile
    /// has nothing left to send.
    /// </summary>
    private void NoDelay(bool on)
    {
        try
        {
            NativeSocket.SetNoDelay(_handle, _fd, on);
        }
        catch (ObjectDisposedException)
        {
        }
    }

    /// <summary>
    /// The kernel's buffer is full: the loop finishes the write when the socket has room again. False when room
    /// came back since <paramref name="eventsBefore"/> was read (its event is used up): push again at once.
    /// </summary>
    private bool AwaitRoom(int eventsBefore)
    {
        lock (this)
        {
            if (_writeEvents != eventsBefore) return false;
            _sending = true;
            _awaitingRoom = true;
            return true;
        }
    }

    private void OnWritable(int events)
    {
        var progress = Push(events);
        if (progress is Progress.Blocked or Progress.Failed) return;
        _pendingBytes = default;
        if (_pendingFile is not null) EndRange();
        bool fin;
        lock (this)
        {
            _sending = false;
            fin = _finAfterSend;
        }
        if (progress == Progress.FileEnded)
        {
            _session.Tell(FileEnded.Instance, ActorRefs.NoSender);
            return;
        }
        _session.Tell(WriteCompleted.Instance, ActorRefs.NoSender);
        if (fin) SendFin();
    }

    /// <summary>
    /// Sends what is pending (bytes, or a file's range) until it is done, fails, or waits for room (Blocked: the loop
    /// finishes it). <paramref name="events"/> is the count of write events read before this push began.
    /// </summary>
    private Progress Push(int events)
    {
        while (true)
        {
            var progress = _pendingFile is null ? PushBytes() : PushFile();
            if (progress != Progress.Blocked || AwaitRoom(events)) return progress;
            events = Volatile.Read(ref _writeEvents);
        }
    }

    /// <summary>What a send that did not succeed means: Blocked, Failed (the connection is gone), or null to send again.</summary>
    private Progress? AfterSendError(SocketError error)
    {
        if (error == SocketError.WouldBlock) return Progress.Blocked;
        if (error == SocketError.Interrupted) return null;
        Gone(Classify(error));
        return Progress.Failed;
    }

    /// <summary>Sends what is pending until it is all sent, the kernel is full, or the connection fails.</summary>
    private Progress PushBytes()
    {
        while (!_pendingBytes.IsEmpty)
        {
            int n;
            SocketError error;
            try
            {
                n = SendNow(_pendingBytes.Span, out error);
            }
            catch (ObjectDisposedException)
            {
                return Progress.Failed;
            }
            if (error != SocketError.Success)
            {
                if (AfterSendError(error) is { } stop) return stop;
                continue;
            }
            _pendingBytes = _pendingBytes[n..];
        }
        return Progress.Done;
    }

    private Progress PushFile()
    {
        while (_fileLeft > 0)
        {
            long n;
            SocketError error;
            try
            {
                n = SendFileNow(_pendingFile!, ref _fileOffset, _fileLeft, out error);
            }
            catch (ObjectDisposedException)
            {
                return Progress.Failed;
            }
            if (error != SocketError.Success)
            {
                if (AfterSendError(error) is { } stop) return stop;
                continue;
            }
            if (n == 0) return Progress.FileEnded;
            _fileLeft -= n;
        }
        return Progress.Done;
    }

    /// <summary>Without the loops: the standard socket in non-blocking mode, the rest sent by .NET's asynchronous send.</summary>
    private bool WriteWithoutLoops(ReadOnlyMemory<byte> data)
    {
        var bytes = data.Span;
        var sent = 0;
        while (sent < bytes.Length)
        {
            int n;
            SocketError error;
            try
            {
                n = SendNow(bytes[sent..], out error);
            }
            catch (ObjectDisposedException)
            {
                return true;
            }
            if (error == SocketError.WouldBlock) break;
            if (error != SocketError.Success)
            {
                Gone(Classify(error));
                return true;
            }
            sent += n;
        }
        if (sent == bytes.Length) return true;

        // The kernel's buffer is full: the rest goes out asynchronously from the session's own buffer, which it keeps
        // until it hears that the write completed.
        lock (this) _sending = true;
        _ = SendRestAsync(data[sent..]);
        return false;
    }

    private async Task SendRestAsync(ReadOnlyMemory<byte> rest)
    {
        try
        {
            while (!rest.IsEmpty)
                rest = rest[await _socket!.SendAsync(rest, SocketFlags.None)..];
        }
        catch (SocketException e)
        {
            Gone(Classify(e.SocketErrorCode));
            return;
        }
        catch (ObjectDisposedException)
        {
            return;
        }
        bool fin;
        lock (this)
        {
            _sending = false;
            fin = _finAfterSend;
        }
        _session.Tell(WriteCompleted.Instance, ActorRefs.NoSender);
        if (fin) SendFin();
    }

    public void SuspendReading()
    {
        lock (this) _demand.Suspend();
    }

    public void ResumeReading()
    {
        lock (this)
        {
            if (!_demand.Resume()) return;
        }
        // Nothing awaits readiness (bytes were waiting that nobody wanted, or the last read was just handed over).
        WaitForBytes();
    }

    public void HalfClose()
    {
        bool sendNow;
        lock (this)
        {
            if (_gone || _halfClosed) return;
            _halfClosed = true;
            sendNow = !_sending;
            if (!sendNow) _finAfterSend = true;
        }
        if (sendNow) SendFin();
    }

    /// <summary>Our FIN is out once the writes are; the connection then waits for the client's.</summary>
    private void SendFin()
    {
        ShutdownSend();
        bool peerFinished;
        bool restart;
        lock (this)
        {
            _finSent = true;
            peerFinished = _peerFinished;
            restart = _demand.ReadForFin(peerFinished);
            // A Readable still on its way to the session will find nothing: the FIN is looked for from here.
            restart |= _readableSent && !peerFinished;
            _readableSent = false;
        }
        if (peerFinished) Gone(CloseKind.Graceful);
        else if (restart) WaitForBytes();
    }

    public void Close()
    {
        lock (this)
        {
            if (_gone) return;
            _gone = true;
            LeaveLoopLocked();
        }
        ShutdownSend();
        // Closing a socket with unread input makes the kernel reset the connection, and a reset destroys what is
        // still queued for the client: read away whatever has arrived before letting go.
        DiscardAvailableInput();
        Release();
    }

    public void Abort()
    {
        lock (this)
        {
            if (_gone) return;
            _gone = true;
            LeaveLoopLocked();
        }
        try
        {
            if (_socket is null) NativeSocket.ResetOnClose(_handle, _fd);
            else _socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        Release();
    }

    /// <summary>Leaves the epoll loop while the descriptor is still ours (it is closed right after, by Release).</summary>
    private void LeaveLoopLocked()
    {
        // Closing the descriptor (which follows) takes it out of epoll by itself: only its slot is given back here,
        // and an event already taken for it finds the slot empty.
        if (_loops is not null && _registration.Token != 0) _loops.Forget(_registration);
    }

    private void ShutdownSend()
    {
        try
        {
            if (_socket is null) NativeSocket.ShutdownSend(_handle, _fd);
            else _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    private void Release()
    {
        if (_socket is null) _handle.Dispose();
        else _socket.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                // Wait until the socket is readable without holding a buffer: an idle client costs no memory here.
                await _socket!.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                bool discard;
                lock (this)
                {
                    if (_gone) return;
                    discard = _halfClosed;
                    // Pull: the next read waits for the session to ask for it. Nobody wants the bytes yet: the loop
                    // parks, and ResumeReading restarts it; parking costs nothing per read.
                    if (!_demand.TryTake(discard)) return;
                }
                if (ReadOnce(discard) == ReadOutcome.Over) return;
            }
        }
        catch (SocketException e)
        {
            Gone(Classify(e.SocketErrorCode));
        }
        catch (ObjectDisposedException)
        {
            // Closed or aborted by the session: it expects no event.
        }
    }

    /// <summary>One non-blocking read, handed to the session (unless only looking for the client's FIN).</summary>
    private ReadOutcome ReadOnce(bool discard)
    {
        var buffer = t_readBuffer ??= new byte[TurnBuffer.Size];
        var n = ReceiveNow(buffer, out var error);
        if (error == SocketError.WouldBlock)
        {
            if (!discard) lock (this) _demand.Restore();
            return ReadOutcome.Empty;
        }
        if (error != SocketError.Success)
        {
            Gone(Classify(error));
            return ReadOutcome.Over;
        }
        if (n == 0)
        {
            OnEndOfStream();
            return ReadOutcome.Over;
        }
        var outcome = n == buffer.Length ? ReadOutcome.Full : ReadOutcome.Short;
        // Once we are closing, what the client still sends is read only to find its FIN.
        if (discard) return outcome;
        var copy = ArrayPool<byte>.Shared.Rent(n);
        buffer.AsSpan(0, n).CopyTo(copy);
        _session.Tell(new Received(copy, n), ActorRefs.NoSender);
        return outcome;
    }

    private void OnEndOfStream()
    {
        bool finished;
        lock (this)
        {
            _peerFinished = true;
            finished = _finSent;
        }
        if (finished) Gone(CloseKind.Graceful);
        else _session.Tell(PeerClosed.Instance, ActorRefs.NoSender);
    }

    private void DiscardAvailableInput()
    {
        var buffer = t_readBuffer ??= new byte[TurnBuffer.Size];
        try
        {
            for (var i = 0; i < DiscardReads; i++)
            {
                var n = ReceiveNow(buffer, out var error);
                if (error != SocketError.Success || n == 0) return;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    /// <summary>The connection is over: the socket is released and the session told how (once).</summary>
    private void Gone(CloseKind kind)
    {
        lock (this)
        {
            if (_gone) return;
            _gone = true;
            LeaveLoopLocked();
        }
        Release();
        _session.Tell(Closed.Of(kind), ActorRefs.NoSender);
    }

    // Each native call holds the descriptors it uses, as .NET holds them, so a close on another thread cannot free
    // one (and the kernel give its number to a new connection) in the middle of the call.
    private int SendNow(ReadOnlySpan<byte> bytes, out SocketError error)
    {
        if (_loops is null) return _socket!.Send(bytes, SocketFlags.None, out error);
        using var held = new HeldDescriptor(_handle);
        return NativeSocket.Send(_fd, bytes, out error);
    }

    private long SendFileNow(SafeFileHandle file, ref long offset, long count, out SocketError error)
    {
        using var socket = new HeldDescriptor(_handle);
        using var held = new HeldDescriptor(file);
        return NativeSocket.SendFile(_fd, (int)file.DangerousGetHandle(), ref offset, count, out error);
    }

    private int ReceiveNow(Span<byte> buffer, out SocketError error)
    {
        if (_loops is null) return _socket!.Receive(buffer, SocketFlags.None, out error);
        using var held = new HeldDescriptor(_handle);
        return NativeSocket.Receive(_fd, buffer, out error);
    }

    /// <summary>Socket errors sorted once, here, into the kinds a session acts on.</summary>
    private static CloseKind Classify(SocketError error) => error switch
    {
        SocketError.ConnectionReset or SocketError.Shutdown => CloseKind.Reset,
        SocketError.ConnectionAborted or SocketError.OperationAborted or SocketError.TimedOut => CloseKind.Aborted,
        _ => CloseKind.Error,
    };
}
