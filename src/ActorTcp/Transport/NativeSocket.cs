// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
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

    public static int Send(int fd, ReadOnlySpan<byte> bytes, out SocketError error)
    {
        var n = send(fd, ref MemoryMarshal.GetReference(bytes), bytes.Length, DontWait | NoSignal);
        return Result(n, out error);
    }

    public static int Receive(int fd, Span<byte> buffer, out SocketError error)
    {
        var n = recv(fd, ref MemoryMarshal.GetReference(buffer), buffer.Length, DontWait);
        return Result(n, out error);
    }

    /// <summary>Sends up to <paramref name="count"/> bytes of a file from <paramref name="offset"/>, which the kernel advances.</summary>
    public static long SendFile(int fd, int fileFd, ref long offset, long count, out SocketError error)
    {
        var n = sendfile(fd, fileFd, ref offset, (nint)Math.Min(count, int.MaxValue));
        return Result(n, out error);
    }

    /// <summary>
    /// Takes one waiting connection from a non-blocking listening descriptor: the new descriptor (close-on-exec, in
    /// blocking mode like any other connection here), or -1 with the reason (WouldBlock when none is waiting).
    /// </summary>
    public static int Accept(int listenFd, out SocketError error)
    {
        var fd = accept4(listenFd, 0, 0, 0x80000 /* SOCK_CLOEXEC */);
        if (fd >= 0)
        {
            error = SocketError.Success;
            return fd;
        }
        Result(-1, out error);
        return -1;
    }

    /// <summary>Sets O_NONBLOCK on the descriptor, held against closing for the two calls.</summary>
    public static void SetNonBlocking(SafeHandle handle, int fd)
    {
        using var held = new HeldDescriptor(handle);
        var flags = fcntl(fd, 3 /* F_GETFL */, 0);
        if (flags >= 0) _ = fcntl(fd, 4 /* F_SETFL */, flags | 0x800 /* O_NONBLOCK */);
    }

    private static int Result(nint n, out SocketError error)
    {
        if (n >= 0)
        {
            error = SocketError.Success;
            return (int)n;
        }
        error = Marshal.GetLastPInvokeError() switch
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

    [DllImport("libc", SetLastError = true)]
    private static extern nint send(int fd, ref byte buffer, nint length, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint sendfile(int outFd, int inFd, ref long offset, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int fcntl(int fd, int command, int argument);

    [DllImport("libc", SetLastError = true)]
    private static extern int accept4(int fd, nint address, nint addressLength, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint recv(int fd, ref byte buffer, nint length, int flags);
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
