// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Akka.Actor;

namespace ActorTcp.Transport;

/// <summary>An outgoing connection is made; its socket is ready for a <see cref="SocketConnection"/>.</summary>
internal sealed record SocketConnected(Socket Socket);

/// <summary>An outgoing connection could not be made (the socket is already released).</summary>
internal sealed record ConnectFailed(SocketError Error);

/// <summary>
/// The client side of the transport: one outgoing connection, made without a thread or an actor of its own. On the
/// epoll loops (Linux x64, IPv4) the connect is a non-blocking connect(2) whose end the loops report as one writable
/// event, and the socket is handed over in the same state as one the server accepts (blocking mode, no .NET
/// asynchronous state), so that <see cref="SocketConnection"/> treats both ends alike. Elsewhere it is .NET's own
/// asynchronous connect. The receiver is told exactly one of <see cref="SocketConnected"/> or
/// <see cref="ConnectFailed"/>, unless the attempt is cancelled before its outcome is decided.
/// </summary>
internal sealed class SocketConnector : IPollable
{
    private const int SolSocket = 1;
    private const int SoError = 4;
    private const int IpProtoIp = 0;
    private const int IpBindAddressNoPort = 24;
    private const int FGetFl = 3;
    private const int FSetFl = 4;
    private const int ONonBlock = 0x800;
    private const int EInProgress = 115;

    private readonly Socket? _socket;
    private readonly IActorRef _receiver;
    private readonly object _gate = new();
    private EpollLoops? _loops;
    private EpollLoops.Registration _registration;
    private int _fd;
    private bool _done;

    private SocketConnector(Socket? socket, IActorRef receiver)
    {
        _socket = socket;
        _receiver = receiver;
        _done = socket is null;
    }

    /// <summary>
    /// Starts a connect to <paramref name="remote"/>, from <paramref name="local"/> when given (port 0: a port the
    /// kernel picks). A failure found at once (no descriptor, no source address) is told right away.
    /// </summary>
    public static SocketConnector Connect(IPEndPoint remote, IPEndPoint? local, IActorRef receiver)
    {
        Socket socket;
        try
        {
            socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        }
        catch (SocketException e)
        {
            // Out of descriptors, typically: there is nothing to cancel later.
            receiver.Tell(new ConnectFailed(e.SocketErrorCode), ActorRefs.NoSender);
            return new SocketConnector(null, receiver);
        }
        var connector = new SocketConnector(socket, receiver);
        connector.Begin(socket, remote, local);
        return connector;
    }

    /// <summary>
    /// Gives the attempt up and releases its socket. An outcome decided just before may still arrive: a receiver that
    /// cancelled disposes the socket of a <see cref="SocketConnected"/> it no longer wants.
    /// </summary>
    public void Cancel()
    {
        if (TryFinish()) _socket?.Dispose();
    }

    private void Begin(Socket socket, IPEndPoint remote, IPEndPoint? local)
    {
        try
        {
            if (local is not null)
            {
                if (OperatingSystem.IsLinux())
                {
                    // The source port is then chosen at connect time for the whole address pair, instead of at bind
                    // time for the source address alone: one source address serves every server port, and bind does
                    // not search the port range while tens of thousands of its ports are taken.
                    socket.SetRawSocketOption(IpProtoIp, IpBindAddressNoPort, [1, 0, 0, 0]);
                }
                socket.Bind(local);
            }
        }
        catch (SocketException e)
        {
            Decide(e.SocketErrorCode);
            return;
        }

        if (!EpollLoops.Supported || remote.AddressFamily != AddressFamily.InterNetwork)
        {
            _ = ConnectAsync(socket, remote);
            return;
        }

        _loops = EpollLoops.Instance;
        _fd = (int)socket.Handle;
        var error = StartNativeConnect(remote);
        if (error == SocketError.InProgress)
        {
            lock (_gate)
            {
                try
                {
                    _registration = _loops.Register(_fd, this);
                    _loops.Arm(_fd, _registration, read: false, write: true);
                    return;
                }
                catch (InvalidOperationException)
                {
                    error = SocketError.SocketError;
                }
            }
        }
        Decide(error);
    }

    /// <summary>The loop says the connect has finished: its outcome is the socket's pending error.</summary>
    public void OnReady(bool readable, bool writable, bool ended)
    {
        // Settled first, so that a cancel cannot close the descriptor while its error is read.
        if (TryFinish()) Settle(PendingError());
    }

    private void Decide(SocketError error)
    {
        if (TryFinish()) Settle(error);
    }

    /// <summary>The outcome, once: the socket goes to the receiver, or is released and the error told.</summary>
    private void Settle(SocketError error)
    {
        if (error != SocketError.Success)
        {
            _socket!.Dispose();
            _receiver.Tell(new ConnectFailed(error), ActorRefs.NoSender);
            return;
        }
        if (_loops is not null)
        {
            // Back to blocking mode, as an accepted socket is: SocketConnection sends and receives with MSG_DONTWAIT.
            var flags = fcntl(_fd, FGetFl, 0);
            if (flags >= 0) fcntl(_fd, FSetFl, flags & ~ONonBlock);
        }
        _receiver.Tell(new SocketConnected(_socket!), ActorRefs.NoSender);
    }

    /// <summary>True for the one caller that settles the attempt; it leaves the epoll loop while the socket is open.</summary>
    private bool TryFinish()
    {
        lock (_gate)
        {
            if (_done) return false;
            _done = true;
            if (_loops is not null && _registration.Token != 0) _loops.Unregister(_fd, _registration);
            return true;
        }
    }

    /// <summary>
    /// connect(2) on the descriptor made non-blocking just for it: .NET still sees a blocking socket, so it creates
    /// none of its asynchronous state.
    /// </summary>
    private SocketError StartNativeConnect(IPEndPoint remote)
    {
        var flags = fcntl(_fd, FGetFl, 0);
        if (flags < 0 || fcntl(_fd, FSetFl, flags | ONonBlock) < 0) return Errno(Marshal.GetLastPInvokeError());
        // struct sockaddr_in: the family in host order, port and address in network order, then 8 zero bytes.
        Span<byte> address = stackalloc byte[16];
        address.Clear();
        BinaryPrimitives.WriteUInt16LittleEndian(address, (ushort)AddressFamily.InterNetwork);
        BinaryPrimitives.WriteUInt16BigEndian(address[2..], (ushort)remote.Port);
        remote.Address.TryWriteBytes(address[4..8], out _);
        if (connect(_fd, ref MemoryMarshal.GetReference(address), address.Length) == 0) return SocketError.Success;
        var errno = Marshal.GetLastPInvokeError();
        return errno == EInProgress ? SocketError.InProgress : Errno(errno);
    }

    private SocketError PendingError()
    {
        var value = 0;
        var length = sizeof(int);
        if (getsockopt(_fd, SolSocket, SoError, ref value, ref length) != 0) return Errno(Marshal.GetLastPInvokeError());
        return value == 0 ? SocketError.Success : Errno(value);
    }

    private async Task ConnectAsync(Socket socket, IPEndPoint remote)
    {
        SocketError outcome;
        try
        {
            await socket.ConnectAsync(remote);
            outcome = SocketError.Success;
        }
        catch (SocketException e)
        {
            outcome = e.SocketErrorCode;
        }
        catch (ObjectDisposedException)
        {
            // Cancelled.
            return;
        }
        Decide(outcome);
    }

    /// <summary>The errno values a connect meets, as the socket errors the rest of the code classifies.</summary>
    private static SocketError Errno(int errno) => errno switch
    {
        111 => SocketError.ConnectionRefused,   // ECONNREFUSED
        110 => SocketError.TimedOut,            // ETIMEDOUT
        104 => SocketError.ConnectionReset,     // ECONNRESET
        99 => SocketError.AddressNotAvailable,  // EADDRNOTAVAIL: no source port left
        98 => SocketError.AddressAlreadyInUse,  // EADDRINUSE
        101 => SocketError.NetworkUnreachable,  // ENETUNREACH
        113 => SocketError.HostUnreachable,     // EHOSTUNREACH
        24 or 23 => SocketError.TooManyOpenSockets, // EMFILE, ENFILE
        11 => SocketError.WouldBlock,           // EAGAIN: no source port left on a non-blocking connect
        _ => SocketError.SocketError,
    };

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    private static extern int connect(int fd, ref byte address, int length);

    [DllImport("libc", SetLastError = true)]
    private static extern int getsockopt(int fd, int level, int name, ref int value, ref int length);
}
