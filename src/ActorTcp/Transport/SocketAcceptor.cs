// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using System.Net.Sockets;
using ActorTcp.Sessions;
using Akka.Actor;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Transport;

/// <summary>
/// A connection the acceptor took, as a .NET socket or (taken by the epoll loops for a plain listener) as a bare
/// descriptor, with the client's address; the listener admits it or refuses it.
/// </summary>
internal sealed record SocketAccepted(Socket? Socket, SocketDescriptor? Descriptor, IPAddress Remote, ListenerKind Listener)
{
    public static SocketAccepted Of(Socket socket, ListenerKind listener) =>
        new(socket, null, (socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None, listener);
}

/// <summary>
/// A listening socket and its accept loop, which hands each new connection to the listener actor. Out of
/// descriptors it waits and tries again, so the listener recovers by itself once descriptors free up.
/// <para>
/// Where the <see cref="EpollLoops"/> run, the listening socket waits on one of them and its connections are
/// taken there with accept4(2), a batch per readiness, and handed to the listener on the same thread (the
/// listener runs on the loops too): a connection's arrival wakes no other thread. Elsewhere .NET's asynchronous
/// accept does it.
/// </para>
/// </summary>
internal sealed class SocketAcceptor : IDisposable, IPollable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);

    /// <summary>Connections taken per readiness at most, so that one busy port cannot hold its loop for long.</summary>
    private const int AcceptsPerEvent = 64;

    private readonly Socket _socket;
    private readonly EpollLoops? _loops = EpollLoops.Supported ? EpollLoops.Instance : null;
    private EpollLoops.Registration _registration;
    private IActorRef _listener = ActorRefs.Nobody;
    private ListenerKind _kind;
    private ILogger? _logger;
    private DateTime _lastWarning = DateTime.MinValue;
    private bool _disposed;

    private SocketAcceptor(Socket socket) => _socket = socket;

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Binds and listens; throws <see cref="SocketException"/> if the address cannot be had.</summary>
    public static SocketAcceptor Listen(IPEndPoint endpoint, int backlog, bool reuseAddress)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, reuseAddress);
            // Replies are small and must leave at once. Linux copies TCP_NODELAY from a listening socket to every
            // socket it accepts, so a connection taken on the epoll loops needs no setsockopt of its own.
            socket.NoDelay = true;
            socket.Bind(endpoint);
            socket.Listen(backlog);
            return new SocketAcceptor(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start(IActorRef listener, ListenerKind kind, ILogger logger)
    {
        if (_loops is null)
        {
            _ = AcceptLoopAsync(listener, kind, logger);
            return;
        }
        _listener = listener;
        _kind = kind;
        _logger = logger;
        var fd = (int)_socket.Handle;
        // accept4(2) has no per-call flag for not waiting: the listening descriptor itself must not block.
        NativeSocket.SetNonBlocking(_socket.SafeHandle, fd);
        lock (this)
        {
            if (_disposed) return;
            _registration = _loops.Register(fd, this);
            _loops.Arm(fd, _registration, read: true, write: false);
        }
    }

    /// <summary>Connections are waiting (on the loop's thread): takes a batch, then waits for the next.</summary>
    public void OnReady(bool readable, bool writable, bool ended)
    {
        for (var i = 0; i < AcceptsPerEvent; i++)
        {
            int client;
            IPAddress remote;
            SocketError error;
            try
            {
                using var held = new HeldDescriptor(_socket.SafeHandle);
                client = NativeSocket.Accept((int)_socket.SafeHandle.DangerousGetHandle(), out remote, out error);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (client >= 0)
            {
                // TLS runs over .NET's streams, which need a Socket; a plain connection needs only its descriptor.
                _listener.Tell(_kind == ListenerKind.Tls
                    ? new SocketAccepted(new Socket(new SafeSocketHandle(client, ownsHandle: true)), null, remote, _kind)
                    : new SocketAccepted(null, new SocketDescriptor(client), remote, _kind), ActorRefs.NoSender);
                continue;
            }
            if (error == SocketError.WouldBlock) break;
            if (error is SocketError.Interrupted or SocketError.ConnectionAborted) continue;
            if (error == SocketError.OperationAborted) return;
            // Out of descriptors (or memory): the connection stays in the backlog; look again shortly.
            Warn(error);
            _ = Task.Delay(RetryDelay).ContinueWith(_ => Rearm(), TaskScheduler.Default);
            return;
        }
        Rearm();
    }

    private void Rearm()
    {
        lock (this)
        {
            if (!_disposed) _loops!.Arm((int)_socket.SafeHandle.DangerousGetHandle(), _registration, read: true, write: false);
        }
    }

    private void Warn(SocketError error)
    {
        if (DateTime.UtcNow - _lastWarning <= WarningInterval) return;
        _lastWarning = DateTime.UtcNow;
        _logger?.LogWarning("Accepting on {Endpoint} failed ({Error}); retrying every {Delay} ms",
            LocalEndPoint, error, RetryDelay.TotalMilliseconds);
    }

    private async Task AcceptLoopAsync(IActorRef listener, ListenerKind kind, ILogger logger)
    {
        var lastWarning = DateTime.MinValue;
        while (true)
        {
            try
            {
                var client = await _socket.AcceptAsync();
                listener.Tell(SocketAccepted.Of(client, kind), ActorRefs.NoSender);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                return;
            }
            catch (SocketException e)
            {
                // Typically out of descriptors: the connection waits in the backlog until one frees up.
                if (DateTime.UtcNow - lastWarning > WarningInterval)
                {
                    lastWarning = DateTime.UtcNow;
                    logger.LogWarning("Accepting on {Endpoint} failed ({Error}); retrying every {Delay} ms",
                        LocalEndPoint, e.SocketErrorCode, RetryDelay.TotalMilliseconds);
                }
                await Task.Delay(RetryDelay);
            }
        }
    }

    public void Dispose()
    {
        lock (this)
        {
            if (_disposed) return;
            _disposed = true;
            // Out of the loop while the descriptor is still ours, so an arming can never reach a reused number.
            if (_loops is not null && _registration.Token != 0) _loops.Unregister((int)_socket.SafeHandle.DangerousGetHandle(), _registration);
        }
        _socket.Dispose();
    }
}
