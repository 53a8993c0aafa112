// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Runtime.InteropServices;

namespace ActorTcp.Transport;

/// <summary>Told on the loop's thread that its socket has bytes (or an end, or an error) to read.</summary>
internal interface IReadable
{
    void OnReadable();
}

/// <summary>
/// Readiness for many sockets from a few threads, as the C epoll server does it: one epoll instance and one thread
/// per core, and per connection only a slot in a table. A socket is armed for one event at a time
/// (EPOLLONESHOT), which is exactly the session's pull: it is armed again when the session asks for more. .NET's
/// own asynchronous receive keeps about 750 bytes of state per socket while it waits (event args, an operation,
/// the awaiting state machine); an idle connection here keeps none of it. Linux on x64.
/// </summary>
internal sealed class EpollLoops
{
    private const int EpollIn = 0x001;
    private const int EpollOut = 0x004;
    private const int EpollRdHup = 0x2000;
    private const int EpollOneShot = 1 << 30;
    private const int CtlAdd = 1;
    private const int CtlDel = 2;
    private const int CtlMod = 3;
    private const int Interest = EpollIn | EpollRdHup | EpollOneShot;
    private const int EventsPerWait = 256;

    private static readonly Lazy<EpollLoops> Shared = new(() => new EpollLoops(Environment.ProcessorCount));

    private readonly int[] _epolls;
    private readonly object _slotsGate = new();
    private IReadable?[] _slots = new IReadable?[1024];
    private uint[] _generations = new uint[1024];
    private readonly Stack<int> _free = new();
    private int _nextSlot;
    private int _nextLoop;

    private EpollLoops(int loops)
    {
        _epolls = new int[Math.Max(1, loops)];
        for (var i = 0; i < _epolls.Length; i++)
        {
            _epolls[i] = epoll_create1(0x80000 /* EPOLL_CLOEXEC */);
            if (_epolls[i] < 0) throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
            var epoll = _epolls[i];
            new Thread(() => Run(epoll)) { IsBackground = true, Name = "actortcp-epoll-" + i }.Start();
        }
    }

    /// <summary>
    /// True where the loops can run (Linux on x64) and are not turned off (ACTORTCP_READINESS=async, which the tests
    /// use to keep the standard path proven); elsewhere each socket waits on .NET's own asynchronous receive.
    /// </summary>
    public static bool Supported { get; } = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
        && Environment.GetEnvironmentVariable("ACTORTCP_READINESS") != "async";

    public static EpollLoops Instance => Shared.Value;

    /// <summary>A socket's place in the loops: which epoll holds it, and the token its events carry.</summary>
    public readonly record struct Registration(int Epoll, ulong Token);

    /// <summary>Adds a socket, not yet armed.</summary>
    public Registration Register(int fd, IReadable readable)
    {
        int slot;
        uint generation;
        lock (_slotsGate)
        {
            if (!_free.TryPop(out slot))
            {
                slot = _nextSlot++;
                if (slot == _slots.Length)
                {
                    Array.Resize(ref _slots, _slots.Length * 2);
                    Array.Resize(ref _generations, _generations.Length * 2);
                }
            }
            _slots[slot] = readable;
            generation = ++_generations[slot];
        }
        var registration = new Registration(_epolls[(uint)Interlocked.Increment(ref _nextLoop) % (uint)_epolls.Length],
            (ulong)generation << 32 | (uint)slot);
        var ev = new EpollEvent { Events = 0, Data = registration.Token };
        if (epoll_ctl(registration.Epoll, CtlAdd, fd, ref ev) != 0)
        {
            Release(registration);
            throw new InvalidOperationException($"epoll_ctl ADD failed: errno {Marshal.GetLastPInvokeError()}");
        }
        return registration;
    }

    /// <summary>Asks for one event: the next time the socket is readable (at once if it is now).</summary>
    public void Arm(int fd, Registration registration)
    {
        var ev = new EpollEvent { Events = Interest, Data = registration.Token };
        epoll_ctl(registration.Epoll, CtlMod, fd, ref ev);
    }

    /// <summary>
    /// Asks for one event: the next time the socket is writable, which for a non-blocking connect is the moment it
    /// has finished, either way (a failed connect is reported as an error, which epoll always delivers).
    /// </summary>
    public void ArmWritable(int fd, Registration registration)
    {
        var ev = new EpollEvent { Events = EpollOut | EpollOneShot, Data = registration.Token };
        epoll_ctl(registration.Epoll, CtlMod, fd, ref ev);
    }

    /// <summary>Removes a socket before it is closed; events already taken for it find its slot empty.</summary>
    public void Unregister(int fd, Registration registration)
    {
        var ev = default(EpollEvent);
        epoll_ctl(registration.Epoll, CtlDel, fd, ref ev);
        Release(registration);
    }

    private void Release(Registration registration)
    {
        var slot = (int)(uint)registration.Token;
        lock (_slotsGate)
        {
            if (_generations[slot] != (uint)(registration.Token >> 32) || _slots[slot] is null) return;
            _slots[slot] = null;
            _free.Push(slot);
        }
    }

    private void Run(int epoll)
    {
        var events = new EpollEvent[EventsPerWait];
        while (true)
        {
            var n = epoll_wait(epoll, events, events.Length, -1);
            if (n < 0) continue; // EINTR
            for (var i = 0; i < n; i++)
            {
                var token = events[i].Data;
                var slot = (int)(uint)token;
                IReadable? readable;
                lock (_slotsGate)
                {
                    readable = slot < _slots.Length && _generations[slot] == (uint)(token >> 32) ? _slots[slot] : null;
                }
                readable?.OnReadable();
            }
        }
    }

    // struct epoll_event as x86-64 lays it out: packed, 12 bytes (arm64 aligns it to 16, hence x64 only).
    [StructLayout(LayoutKind.Explicit, Size = 12)]
    private struct EpollEvent
    {
        [FieldOffset(0)] public int Events;
        [FieldOffset(4)] public ulong Data;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_create1(int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_ctl(int epfd, int op, int fd, ref EpollEvent ev);

    [DllImport("libc", SetLastError = true)]
    private static extern int epoll_wait(int epfd, [Out] EpollEvent[] events, int maxevents, int timeout);
}
