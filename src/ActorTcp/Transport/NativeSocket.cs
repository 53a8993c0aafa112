// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace ActorTcp.Transport;

/// <summary>
/// send(2) and recv(2) that never wait (MSG_DONTWAIT), on a descriptor that stays in blocking mode; sendfile(2),
/// for which the descriptor is made non-blocking first (it has no such flag); and accept4(2) on a listening
/// descriptor made non-blocking.
/// </summary>
internal static class NativeSocket
{
    private const int DontWait = 0x40;
    private const int NoSignal = 0x4000;

    // send and recv are called once each per request, so they take plain pointers and no SetLastError: the JIT then
    // makes the call inline, with no marshalling stub, and errno is read only when the call failed (the runtime keeps
    // errno intact on the way back from a native call, as code generated for LibraryImport relies on too).
    public static unsafe int Send(int fd, ReadOnlySpan<byte> bytes, out SocketError error)
    {
        nint n;
        fixed (byte* start = bytes) n = send(fd, start, bytes.Length, DontWait | NoSignal);
        return InlineResult(n, out error);
    }

    public static unsafe int Receive(int fd, Span<byte> buffer, out SocketError error)
    {
        nint n;
        fixed (byte* start = buffer) n = recv(fd, start, buffer.Length, DontWait);
        return InlineResult(n, out error);
    }

    /// <summary>Sends up to <paramref name="count"/> bytes of a file from <paramref name="offset"/>, which the kernel advances.</summary>
    public static long SendFile(int fd, int fileFd, ref long offset, long count, out SocketError error)
    {
        var n = sendfile(fd, fileFd, ref offset, (nint)Math.Min(count, int.MaxValue));
        return Result(n, out error);
    }

    /// <summary>
    /// Takes one waiting connection from a non-blocking listening descriptor: the new descriptor (close-on-exec, in
    /// blocking mode like any other connection here) and the client's address, or -1 with the reason (WouldBlock
    /// when none is waiting).
    /// </summary>
    public static int Accept(int listenFd, out IPAddress remote, out SocketError error)
    {
        // struct sockaddr_storage: 128 bytes, the family in its first two (in the machine's byte order).
        Span<byte> address = stackalloc byte[128];
        var length = address.Length;
        var fd = accept4(listenFd, ref MemoryMarshal.GetReference(address), ref length, 0x80000 /* SOCK_CLOEXEC */);
        if (fd < 0)
        {
            remote = IPAddress.None;
            Result(-1, out error);
            return -1;
        }
        error = SocketError.Success;
        remote = MemoryMarshal.Read<ushort>(address) switch
        {
            2 /* AF_INET: port at 2, address at 4 */ => new IPAddress(address.Slice(4, 4)),
            10 /* AF_INET6: port at 2, flow at 4, address at 8, scope at 24 */ =>
                new IPAddress(address.Slice(8, 16), MemoryMarshal.Read<uint>(address[24..])),
            _ => IPAddress.None,
        };
        return fd;
    }

    /// <summary>shutdown(2) of the sending side: our FIN goes out once what is queued has.</summary>
    public static void ShutdownSend(SafeHandle handle, int fd)
    {
        using var held = new HeldDescriptor(handle);
        _ = shutdown(fd, 1 /* SHUT_WR */);
    }

    /// <summary>Linger on, for zero seconds (SO_LINGER): closing the descriptor then resets the connection.</summary>
    public static void ResetOnClose(SafeHandle handle, int fd)
    {
        using var held = new HeldDescriptor(handle);
        Span<int> linger = [1, 0];
        _ = setsockopt(fd, 1 /* SOL_SOCKET */, 13 /* SO_LINGER */, ref linger[0], 2 * sizeof(int));
    }

    /// <summary>
    /// TCP_NODELAY on or off. Off, Nagle's algorithm holds a short segment back while data is in flight, so that
    /// more can join it; turning it on again sends what is held at once.
    /// </summary>
    public static void SetNoDelay(SafeHandle handle, int fd, bool on)
    {
        using var held = new HeldDescriptor(handle);
        var value = on ? 1 : 0;
        _ = setsockopt(fd, 6 /* IPPROTO_TCP */, 1 /* TCP_NODELAY */, ref value, sizeof(int));
    }

    /// <summary>Sets O_NONBLOCK on the descriptor, held against closing for the two calls.</summary>
    public static void SetNonBlocking(SafeHandle handle, int fd)
    {
        using var held = new HeldDescriptor(handle);
        var flags = fcntl(fd, 3 /* F_GETFL */, 0);
        if (flags >= 0) _ = fcntl(fd, 4 /* F_SETFL */, flags | 0x800 /* O_NONBLOCK */);
    }

    /// <summary>The outcome of a call declared with SetLastError (the runtime saved errno).</summary>
    private static int Result(nint n, out SocketError error) =>
        n >= 0 ? Done(n, out error) : Failed(Marshal.GetLastPInvokeError(), out error);

    /// <summary>The outcome of a call made inline, without SetLastError: errno is read straight after it, on failure only.</summary>
    private static int InlineResult(nint n, out SocketError error) =>
        n >= 0 ? Done(n, out error) : Failed(Marshal.GetLastSystemError(), out error);

    private static int Done(nint n, out SocketError error)
    {
        error = SocketError.Success;
        return (int)n;
    }

    private static int Failed(int errno, out SocketError error)
    {
        error = errno switch
        {
            11 => SocketError.WouldBlock,        // EAGAIN
            4 => SocketError.Interrupted,        // EINTR
            104 => SocketError.ConnectionReset,  // ECONNRESET
            32 => SocketError.Shutdown,          // EPIPE
            103 => SocketError.ConnectionAborted,// ECONNABORTED
            110 => SocketError.TimedOut,         // ETIMEDOUT
            9 => SocketError.OperationAborted,   // EBADF: closed under us
            24 or 23 => SocketError.TooManyOpenSockets, // EMFILE, ENFILE
            105 or 12 => SocketError.NoBufferSpaceAvailable, // ENOBUFS, ENOMEM
            _ => SocketError.SocketError,
        };
        return 0;
    }

    [DllImport("libc")]
    private static extern unsafe nint send(int fd, byte* buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint sendfile(int outFd, int inFd, ref long offset, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    private static extern int accept4(int fd, ref byte address, ref int addressLength, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int shutdown(int fd, int how);

    [DllImport("libc", SetLastError = true)]
    private static extern int setsockopt(int fd, int level, int name, ref int value, int length);

    [DllImport("libc", SetLastError = true)]
    internal static extern int close(int fd);

    [DllImport("libc")]
    private static extern unsafe nint recv(int fd, byte* buffer, nint length, int flags);
}

/// <summary>
/// Holds a handle's descriptor open for the length of a <c>using</c>: a close on another thread waits for the
/// release instead of freeing the number under a native call. Throws <see cref="ObjectDisposedException"/> when the
/// handle is already closed.
/// </summary>
internal readonly ref struct HeldDescriptor
{
    private readonly SafeHandle _handle;

    public HeldDescriptor(SafeHandle handle)
    {
        var added = false;
        handle.DangerousAddRef(ref added);
        _handle = handle;
    }

    public void Dispose() => _handle.DangerousRelease();
}

/// <summary>
/// A connection's descriptor as the epoll loops accept it, without a .NET <see cref="Socket"/> around it (which
/// would cost about 200 bytes per client: the socket, its handle, its cached addresses). Closed once, when the last
/// native call holding it is done.
/// </summary>
internal sealed class SocketDescriptor : SafeHandle
{
    public SocketDescriptor(int fd) : base(-1, ownsHandle: true) => SetHandle(fd);

    public override bool IsInvalid => handle < 0;

    public int Fd => (int)handle;

    protected override bool ReleaseHandle() => NativeSocket.close((int)handle) == 0;
}
