// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using Akka.Actor;
using Microsoft.Win32.SafeHandles;

namespace ActorTcp.Transport;

/// <summary>
/// A TLS connection (.NET's <see cref="SslStream"/> over the accepted socket) behind the same seam as a plain one:
/// the session cannot tell them apart but for <see cref="Established"/>. The handshake starts at once; writes made
/// before it ends (the greeting) wait for it. Reads are pulled one at a time as on a plain socket, and an idle
/// connection waits on a zero-byte read, so SslStream holds no buffer for it.
/// </summary>
internal sealed class TlsConnection : IConnection
{
    private const int ReadSize = 16 * 1024;

    private static readonly SslProtocols Protocols = SslProtocols.Tls12 | SslProtocols.Tls13;

    private readonly Socket _socket;
    private readonly SslStream _ssl;
    private readonly SslStreamCertificateContext _certificate;
    private readonly object _gate = new();
    private IActorRef _session = ActorRefs.Nobody;
    private volatile bool _established;
    private ReadOnlyMemory<byte>? _waitingForHandshake;
    private ReadDemand _demand = new();
    private bool _writing;
    private bool _finAfterWrite;
    private bool _halfClosed;
    private bool _finSent;
    private bool _peerFinished;
    private bool _gone;

    public TlsConnection(Socket socket, SslStreamCertificateContext certificate)
    {
        _socket = socket;
        _socket.NoDelay = true;
        _ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), leaveInnerStreamOpen: false);
        _certificate = certificate;
    }

    public bool Established => _established;

    public void Start(IActorRef session)
    {
        _session = session;
        _ = HandshakeThenReadAsync();
    }

    /// <summary>Runs the server side of the TLS handshake; false (and the socket closed) when it fails.</summary>
    public static async Task<bool> HandshakeAsync(SslStream ssl, SslStreamCertificateContext certificate, CancellationToken cancel)
    {
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificateContext = certificate,
                EnabledSslProtocols = Protocols,
                ClientCertificateRequired = false,
            }, cancel);
            return true;
        }
        catch (Exception e) when (e is AuthenticationException or IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }

    private async Task HandshakeThenReadAsync()
    {
        if (!await HandshakeAsync(_ssl, _certificate, CancellationToken.None))
        {
            Gone(CloseKind.HandshakeFailed);
            return;
        }
        ReadOnlyMemory<byte>? waiting;
        lock (_gate)
        {
            if (_gone) return;
            _established = true;
            waiting = _waitingForHandshake;
            _waitingForHandshake = null;
            if (waiting is not null) _writing = true;
        }
        if (waiting is { } greeting) _ = WriteAsync(greeting);
        await ReadLoopAsync();
    }

    public bool Write(ReadOnlyMemory<byte> data)
    {
        lock (_gate)
        {
            if (_gone) return true;
            if (!_established)
            {
                _waitingForHandshake = data;
                return false;
            }
            _writing = true;
        }
        _ = WriteAsync(data);
        return false;
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> data)
    {
        try
        {
            await _ssl.WriteAsync(data);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            Gone(CloseKind.Reset);
            return;
        }
        bool fin;
        lock (_gate)
        {
            _writing = false;
            fin = _finAfterWrite;
        }
        _session.Tell(WriteCompleted.Instance, ActorRefs.NoSender);
        if (fin) await SendFinAsync();
    }

    /// <summary>File bytes must be encrypted: they go through <see cref="Write"/>.</summary>
    public bool CanSendFile => false;

    /// <summary>SslStream does not tell how much of a write the kernel has taken: a TLS write counts when it completes.</summary>
    public long Unsent => 0;

    public bool SendFile(SafeFileHandle file, long offset, int count) =>
        throw new NotSupportedException("a TLS connection encrypts what it sends: file bytes go through Write");

    public void SuspendReading()
    {
        lock (_gate) _demand.Suspend();
    }

    public void ResumeReading()
    {
        lock (_gate)
        {
            if (!_demand.Resume()) return;
        }
        _ = ReadLoopAsync();
    }

    public void HalfClose()
    {
        bool now;
        lock (_gate)
        {
            if (_gone || _halfClosed) return;
            _halfClosed = true;
            now = !_writing;
            if (!now) _finAfterWrite = true;
        }
        if (now) _ = SendFinAsync();
    }

    /// <summary>TLS close_notify, then the TCP FIN; the connection then waits for the client's.</summary>
    private async Task SendFinAsync()
    {
        try
        {
            await _ssl.ShutdownAsync();
            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException) { }
        bool peerFinished;
        bool restart;
        lock (_gate)
        {
            _finSent = true;
            peerFinished = _peerFinished;
            restart = _demand.ReadForFin(peerFinished);
        }
        if (peerFinished) Gone(CloseKind.Graceful);
        else if (restart) _ = ReadLoopAsync();
    }

    public void Close()
    {
        lock (_gate)
        {
            if (_gone) return;
            _gone = true;
        }
        try
        {
            _socket.Shutdown(SocketShutdown.Send);
            // Unread input would make the kernel reset the connection and destroy what it still holds for the client.
            var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
            for (var i = 0; i < 64 && _socket.Available > 0; i++) _socket.Receive(buffer, SocketFlags.None);
            ArrayPool<byte>.Shared.Return(buffer);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
        _ssl.Dispose();
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
        _ssl.Dispose();
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                // Wait for data without lending SslStream a buffer: an idle TLS client holds none.
                _ = await _ssl.ReadAsync(Memory<byte>.Empty);
                bool discard;
                lock (_gate)
                {
                    if (_gone) return;
                    discard = _halfClosed;
                    if (!_demand.TryTake(discard)) return;
                }
                var buffer = ArrayPool<byte>.Shared.Rent(ReadSize);
                var n = await _ssl.ReadAsync(buffer.AsMemory(0, ReadSize));
                if (n == 0 || discard) ArrayPool<byte>.Shared.Return(buffer);
                if (n == 0)
                {
                    OnEndOfStream();
                    return;
                }
                if (!discard) _session.Tell(new Received(buffer, n), ActorRefs.NoSender);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or SocketException)
        {
            Gone(CloseKind.Reset);
        }
    }

    private void OnEndOfStream()
    {
        bool closed;
        lock (_gate)
        {
            _peerFinished = true;
            closed = _finSent;
        }
        if (closed) Gone(CloseKind.Graceful);
        else _session.Tell(PeerClosed.Instance, ActorRefs.NoSender);
    }

    private void Gone(CloseKind kind)
    {
        lock (_gate)
        {
            if (_gone) return;
            _gone = true;
        }
        _ssl.Dispose();
        _session.Tell(Closed.Of(kind), ActorRefs.NoSender);
    }
}
