using System.Buffers;
using System.Net.Sockets;
using Akka.Actor;
using Akka.IO;
using Tcp = Akka.IO.Tcp;

namespace ActorTcp.Transport;

/// <summary>
/// A plain <see cref="Socket"/> behind the session's seam, without a connection actor: an idle connection holds
/// no buffer, reads are pulled one at a time by the session, and a write goes straight to the kernel from the
/// session's own turn, with no message unless the kernel's buffer is full.
/// </summary>
internal sealed class SocketConnection : IConnection
{
    /// <summary>The most one read takes: bounds what a session is handed at once.</summary>
    private const int ReadSize = 16 * 1024;

    // Reads land here first and are copied out at their real size; it is used only between two awaits of one
    // read loop on one thread, so one per thread serves every connection.
    [ThreadStatic] private static byte[]? t_readBuffer;

    private readonly Socket _socket;
    private readonly object _gate = new();
    private IActorRef _session = ActorRefs.Nobody;
    private bool _wantsBytes = true;
    private TaskCompletionSource? _demand;
    private bool _closing;
    private bool _gone;

    public SocketConnection(Socket socket)
    {
        _socket = socket;
        _socket.NoDelay = true;
        // Synchronous sends must never block the session's thread: they take what fits and say so.
        _socket.Blocking = false;
    }

    public void Register(IActorRef session)
    {
        _session = session;
        _ = ReadLoopAsync();
    }

    public bool Write(ByteString data)
    {
        var bytes = data.IsCompact ? data.ToReadOnlySpan() : data.ToArray();
        var sent = 0;
        while (sent < bytes.Length)
        {
            int n;
            SocketError error;
            try
            {
                n = _socket.Send(bytes[sent..], SocketFlags.None, out error);
            }
            catch (ObjectDisposedException)
            {
                return true;
            }
            if (error == SocketError.WouldBlock) break;
            if (error != SocketError.Success)
            {
                Gone(new Tcp.ErrorClosed(error.ToString()));
                return true;
            }
            sent += n;
        }
        if (sent == bytes.Length) return true;

        // The kernel's buffer is full: the rest goes out asynchronously and the session hears when it has.
        var rest = ArrayPool<byte>.Shared.Rent(bytes.Length - sent);
        var count = bytes.Length - sent;
        bytes[sent..].CopyTo(rest);
        _ = SendRestAsync(rest, count);
        return false;
    }

    private async Task SendRestAsync(byte[] rest, int count)
    {
        try
        {
            var offset = 0;
            while (offset < count)
                offset += await _socket.SendAsync(rest.AsMemory(offset, count - offset), SocketFlags.None);
            _session.Tell(WriteAcked.Instance, ActorRefs.NoSender);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Gone(new Tcp.ErrorClosed(e.Message));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rest);
        }
    }

    public void SuspendReading()
    {
        lock (_gate) _wantsBytes = false;
    }

    public void ResumeReading()
    {
        TaskCompletionSource? waiting;
        lock (_gate)
        {
            if (_wantsBytes) return;
            _wantsBytes = true;
            waiting = _demand;
            _demand = null;
        }
        waiting?.TrySetResult();
    }

    /// <summary>
    /// Sends our FIN, then waits for the client's: closing with unread bytes in the socket would reset the
    /// connection and could destroy the last line before the client reads it.
    /// </summary>
    public void Close(bool peerAlreadyClosed)
    {
        lock (_gate) _closing = true;
        try { _socket.Shutdown(SocketShutdown.Send); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        if (!peerAlreadyClosed)
        {
            ResumeReadingForClose();
            return;
        }
        // Closing a socket with unread input makes the kernel reset the connection, and a reset destroys what is
        // still queued for the client: read whatever has arrived before letting go.
        DiscardAvailableInput();
        Gone(Tcp.Closed.Instance);
    }

    private void DiscardAvailableInput()
    {
        var buffer = t_readBuffer ??= new byte[ReadSize];
        try
        {
            for (var i = 0; i < 64; i++)
            {
                var n = _socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out var error);
                if (error != SocketError.Success || n == 0) return;
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
    }

    public void Abort()
    {
        lock (_gate)
        {
            if (_gone) return;
            _gone = true;
        }
        try { _socket.LingerState = new LingerOption(true, 0); }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _socket.Dispose();
        CancelDemand();
    }

    private void ResumeReadingForClose()
    {
        TaskCompletionSource? waiting;
        lock (_gate)
        {
            _wantsBytes = true;
            waiting = _demand;
            _demand = null;
        }
        waiting?.TrySetResult();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                // Wait until the socket is readable without holding a buffer: an idle client costs no memory here.
                await _socket.ReceiveAsync(Memory<byte>.Empty, SocketFlags.None);
                await DemandAsync();
                if (IsGone) return;

                var buffer = t_readBuffer ??= new byte[ReadSize];
                var n = _socket.Receive(buffer, 0, buffer.Length, SocketFlags.None, out var error);
                if (error == SocketError.WouldBlock) continue;
                if (error != SocketError.Success)
                {
                    Gone(new Tcp.ErrorClosed(error.ToString()));
                    return;
                }
                if (n == 0)
                {
                    OnEndOfStream();
                    return;
                }
                bool closing;
                lock (_gate)
                {
                    closing = _closing;
                    // Pull: the next read waits for the session to ask for it.
                    if (!closing) _wantsBytes = false;
                }
                // Once we are closing, what the client still sends is read only to find its FIN.
                if (!closing) _session.Tell(new Tcp.Received(ByteString.FromBytes(buffer.AsSpan(0, n).ToArray())), ActorRefs.NoSender);
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            Gone(new Tcp.ErrorClosed(e.Message));
        }
    }

    private void OnEndOfStream()
    {
        bool closing;
        lock (_gate) closing = _closing;
        if (closing) Gone(Tcp.ConfirmedClosed.Instance);
        else _session.Tell(Tcp.PeerClosed.Instance, ActorRefs.NoSender);
    }

    private Task DemandAsync()
    {
        lock (_gate)
        {
            if (_wantsBytes || _gone) return Task.CompletedTask;
            _demand ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _demand.Task;
        }
    }

    private bool IsGone
    {
        get { lock (_gate) return _gone; }
    }

    /// <summary>The connection is over: the socket is released and the session told how (once).</summary>
    private void Gone(Tcp.ConnectionClosed how)
    {
        lock (_gate)
        {
            if (_gone) return;
            _gone = true;
        }
        _socket.Dispose();
        CancelDemand();
        _session.Tell(how, ActorRefs.NoSender);
    }

    private void CancelDemand()
    {
        TaskCompletionSource? waiting;
        lock (_gate)
        {
            waiting = _demand;
            _demand = null;
        }
        waiting?.TrySetResult();
    }
}
