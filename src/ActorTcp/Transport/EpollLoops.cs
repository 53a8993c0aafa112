// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ActorTcp.Transport;

/// <summary>
/// Told on the loop's thread what its socket is ready for: bytes (or an end, or an error) to read, room to write;
/// and whether the end or an error is among what there is to read (the peer's FIN, a reset), which stays so.
/// </summary>
internal interface IPollable
{
    void OnReady(bool readable, bool writable, bool ended);
}

/// <summary>
/// Readiness for many sockets from a few threads, as the C epoll server does it: one epoll instance and one thread
/// per core, and per connection only a slot in a table. A connection is registered once, edge-triggered: the loop
/// tells it of each change (bytes came, room came back) and it remembers what it has not used yet, so a request
/// costs no epoll_ctl at all. A listening socket is armed for one event at a time instead (EPOLLONESHOT). .NET's
/// own asynchronous receive keeps about 750 bytes of state per socket while it waits (event args, an operation,
/// the awaiting state machine); an idle connection here keeps none of it. Linux on x64.
/// <para>
/// The same threads also run the sessions' turns (<see cref="LoopExecutor"/>): a read handed to a session from a
/// loop is processed on that loop right after the batch of events it came in, so a request costs no thread
/// handover at all: no wake-up of a pool thread, and no pool thread spinning for work between requests.
/// </para>
/// <para>
/// Light traffic is served by one thread: a loop other than the first that has been nearly idle for a while rests
/// (<see cref="Loop.Rest"/>), and the first loop takes its events by watching its epoll instance, nested in its own.
/// A wake-up then finds twice the requests waiting, and the code and objects they need, cold after a quiet spell,
/// are fetched once per batch instead of once on each thread. When the first loop is busy for most of a short window,
/// it wakes a resting loop, which takes its own events again.
/// </para>
/// </summary>
internal sealed class EpollLoops
{
    private const int EpollIn = 0x001;
    private const int EpollOut = 0x004;
    private const int EpollErr = 0x008;
    private const int EpollHup = 0x010;
    private const int EpollRdHup = 0x2000;
    private const int EpollOneShot = 1 << 30;
    private const int EpollEdge = 1 << 31;
    private const int CtlAdd = 1;
    private const int CtlDel = 2;
    private const int CtlMod = 3;
    private const int EventsPerWait = 256;

    private static readonly Lazy<EpollLoops> Shared = new(() => new EpollLoops(Environment.ProcessorCount,
        busyWindow: TimeSpan.FromMilliseconds(2), idleWindow: TimeSpan.FromMilliseconds(200),
        mayRest: Environment.GetEnvironmentVariable("ACTORTCP_LOOP_REST") != "off"));

    private const ulong WakeToken = ulong.MaxValue;

    /// <summary>The token under which the first loop watches a resting loop's epoll instance: this, minus its index.</summary>
    private const ulong RestingToken = ulong.MaxValue - 1;

    /// <summary>Turns run between two waits at most, so that a busy queue never starves the sockets' events.</summary>
    private const int TurnsPerPass = 1024;

    [ThreadStatic] private static Loop? t_loop;

    private readonly Loop[] _loops;
    // Registrations change under this lock; the loops look their events' tokens up without it (see Lookup).
    private readonly object _slotsGate = new();
    private SlotTable _table = new(1024);
    private readonly Stack<int> _free = new();
    private int _nextSlot;
    private int _nextLoop;

    // The first loop wakes a resting loop when it was busy for at least half of a window of _busyWindow ticks; a loop
    // other than the first rests when it was busy for less than a tenth of one of _idleWindow ticks.
    private readonly long _busyWindow;
    private readonly long _idleWindow;
    private readonly bool _mayRest;
    private readonly Thread[] _threads;
    private volatile bool _stopping;

    /// <summary>
    /// The process's loops are <see cref="Instance"/>; the specs make their own, with windows of their choosing, and
    /// stop them (<see cref="Stop"/>). Loops other than the first rest only with <paramref name="mayRest"/>
    /// (ACTORTCP_LOOP_REST=off keeps the process's loops all awake).
    /// </summary>
    internal EpollLoops(int loops, TimeSpan busyWindow, TimeSpan idleWindow, bool mayRest)
    {
        _busyWindow = (long)(busyWindow.TotalSeconds * Stopwatch.Frequency);
        _idleWindow = (long)(idleWindow.TotalSeconds * Stopwatch.Frequency);
        _mayRest = mayRest && loops > 1;
        _loops = new Loop[Math.Max(1, loops)];
        _threads = new Thread[_loops.Length];
        for (var i = 0; i < _loops.Length; i++)
        {
            var loop = _loops[i] = new Loop(i);
            _threads[i] = new Thread(() => Run(loop)) { IsBackground = true, Name = "actortcp-epoll-" + i };
            _threads[i].Start();
        }
    }

    /// <summary>Ends the loops' threads and closes their epoll instances (the specs' own loops; the process's run for good).</summary>
    internal void Stop()
    {
        _stopping = true;
        // Woken again until it ends: a loop may have been about to rest when the first wake-up came.
        for (var i = 0; i < _threads.Length; i++)
        {
            while (!_threads[i].Join(10)) _loops[i].WakeForStop();
        }
        foreach (var loop in _loops) loop.Close();
    }

    /// <summary>Whether a loop rests now (for the specs).</summary>
    internal bool IsResting(int loop) => _loops[loop].Resting;

    /// <summary>How many times a loop has come back from resting and taken its own events again (for the specs).</summary>
    internal int Returns(int loop) => Volatile.Read(ref _loops[loop].Returns);

    /// <summary>Which loop a registration belongs to (for the specs).</summary>
    internal int LoopOf(Registration registration) => Array.FindIndex(_loops, l => l.Epoll == registration.Epoll);

    /// <summary>
    /// True where the loops can run (Linux on x64) and are not turned off (ACTORTCP_READINESS=async, which the tests
    /// use to keep the standard path proven); elsewhere each socket waits on .NET's own asynchronous receive.
    /// </summary>
    public static bool Supported { get; } = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == Architecture.X64
        && Environment.GetEnvironmentVariable("ACTORTCP_READINESS") != "async";

    public static EpollLoops Instance => Shared.Value;

    /// <summary>A socket's place in the loops: which epoll holds it, and the token its events carry.</summary>
    public readonly record struct Registration(int Epoll, ulong Token);

    /// <summary>
    /// Adds a socket. Not yet armed, for one event per <see cref="Arm"/>; or, with <paramref name="edges"/>, told
    /// once of every change for good: bytes arrived (or the end, or an error), room to write came back. The owner
    /// of an edge-triggered socket must remember what it was told and not yet used, for no second event comes
    /// until something changes again; in exchange it never calls epoll_ctl again.
    /// </summary>
    public Registration Register(int fd, IPollable readable, bool edges = false)
    {
        int slot;
        uint generation;
        lock (_slotsGate)
        {
            var table = _table;
            if (!_free.TryPop(out slot))
            {
                slot = _nextSlot++;
                if (slot == table.Pollables.Length) Volatile.Write(ref _table, table = table.Grown());
            }
            // The generation first, then the socket: a loop that finds the new socket in the slot also finds its new
            // generation, so an event left over from the slot's previous socket can never reach this one.
            generation = table.Generations[slot] + 1;
            Volatile.Write(ref table.Generations[slot], generation);
            Volatile.Write(ref table.Pollables[slot], readable);
        }
        var registration = new Registration(_loops[(uint)Interlocked.Increment(ref _nextLoop) % (uint)_loops.Length].Epoll,
            (ulong)generation << 32 | (uint)slot);
        var ev = new EpollEvent { Events = edges ? EpollIn | EpollRdHup | EpollOut | EpollEdge : 0, Data = registration.Token };
        if (epoll_ctl(registration.Epoll, CtlAdd, fd, ref ev) != 0)
        {
            Release(registration);
            throw new InvalidOperationException($"epoll_ctl ADD failed: errno {Marshal.GetLastPInvokeError()}");
        }
        return registration;
    }

    /// <summary>Asks for one event: the next time the socket is readable, or writable, or both (at once if it is now).</summary>
    public void Arm(int fd, Registration registration, bool read, bool write)
    {
        var interest = (read ? EpollIn | EpollRdHup : 0) | (write ? EpollOut : 0) | EpollOneShot;
        var ev = new EpollEvent { Events = interest, Data = registration.Token };
        epoll_ctl(registration.Epoll, CtlMod, fd, ref ev);
    }

    /// <summary>Removes a socket before it is closed; events already taken for it find its slot empty.</summary>
    public void Unregister(int fd, Registration registration)
    {
        var ev = default(EpollEvent);
        epoll_ctl(registration.Epoll, CtlDel, fd, ref ev);
        Release(registration);
    }

    /// <summary>
    /// Gives back the slot of a socket that is about to be closed, without epoll_ctl: closing the descriptor removes it
    /// from epoll (nothing here duplicates descriptors), and events already taken for it find the slot empty.
    /// </summary>
    public void Forget(Registration registration) => Release(registration);

    private void Release(Registration registration)
    {
        var slot = (int)(uint)registration.Token;
        lock (_slotsGate)
        {
            var table = _table;
            if (table.Generations[slot] != (uint)(registration.Token >> 32) || table.Pollables[slot] is null) return;
            Volatile.Write(ref table.Pollables[slot], null);
            _free.Push(slot);
        }
    }

    /// <summary>
    /// Runs a piece of work on a loop: on the caller's own loop when the caller is one (it runs after the current
    /// batch of events, with no system call), otherwise on the next loop in turn, waking it if it waits.
    /// </summary>
    public void Execute(Akka.Dispatch.IRunnable work)
    {
        var loop = t_loop;
        if (loop is null)
        {
            loop = _loops[(uint)Interlocked.Increment(ref _nextLoop) % (uint)_loops.Length];
            if (loop.Resting) loop = _loops[0];
        }
        loop.Queue.Enqueue(work);
        if (loop == t_loop) return;
        // Enqueued, then looked at: a loop that began to rest meanwhile looks at its queue after saying so.
        if (loop.Resting) loop.WakeFromRest();
        else loop.WakeIfWaiting();
    }

    private void Run(Loop loop)
    {
        t_loop = loop;
        // The kernel writes its events straight into this pinned buffer. An EpollEvent[] passed to epoll_wait was
        // marshalled instead: all its elements copied into native memory and back, on every wait.
        var events = GC.AllocateArray<byte>(EventsPerWait * EventSize, pinned: true);
        // The first loop takes resting loops' events into a second buffer, while its own are still being handled.
        var taken = loop.Index == 0 && _loops.Length > 1 ? GC.AllocateArray<byte>(EventsPerWait * EventSize, pinned: true) : null;
        loop.Load = new LoopLoad(Stopwatch.GetTimestamp());
        while (!_stopping) Pass(loop, events, taken);
    }

    /// <summary>
    /// One wait and what it brings. A method of its own, not the body of <see cref="Run"/>'s endless loop, so that it
    /// is compiled like any other method instead of being replaced while it runs.
    /// </summary>
    private void Pass(Loop loop, byte[] events, byte[]? taken)
    {
        var n = Wait(loop.Epoll, events, loop.PrepareToWait() ? -1 : 0);
        loop.Awake();
        var started = Stopwatch.GetTimestamp();
        for (var i = 0; i < n; i++)
        {
            var token = MemoryMarshal.Read<ulong>(events.AsSpan(i * EventSize + 4, 8));
            if (token == WakeToken) loop.ClearWake();
            else if (token > RestingToken - (ulong)_loops.Length && token <= RestingToken) TakeEvents(_loops[(int)(RestingToken - token)], taken!);
            else Deliver(events, i);
        }
        loop.RunTurns(TurnsPerPass);
        if (!_mayRest) return;
        if (loop.Index == 0)
        {
            if (loop.Load.Share(started, Stopwatch.GetTimestamp(), _busyWindow) >= 0.5) WakeOneResting();
        }
        else if (loop.Load.Share(started, Stopwatch.GetTimestamp(), _idleWindow) is >= 0 and < 0.1 && loop.Queue.IsEmpty && !_stopping)
        {
            loop.Rest(_loops[0].Epoll, RestingToken - (ulong)loop.Index);
        }
    }

    /// <summary>On the first loop: the events of a resting loop, which its epoll instance (nested in ours) says it has.</summary>
    private void TakeEvents(Loop resting, byte[] taken)
    {
        var n = Wait(resting.Epoll, taken, 0);
        for (var i = 0; i < n; i++)
        {
            // A wake-up written just before the loop began to rest: nothing waits on it any more.
            if (MemoryMarshal.Read<ulong>(taken.AsSpan(i * EventSize + 4, 8)) == WakeToken) resting.ClearWake();
            else Deliver(taken, i);
        }
    }

    /// <summary>Tells an event's socket what it is ready for.</summary>
    private void Deliver(byte[] events, int i)
    {
        var ev = events.AsSpan(i * EventSize, EventSize);
        var happened = MemoryMarshal.Read<int>(ev);
        Lookup(MemoryMarshal.Read<ulong>(ev[4..]))?.OnReady((happened & (EpollIn | EpollRdHup | EpollHup | EpollErr)) != 0,
            (happened & (EpollOut | EpollHup | EpollErr)) != 0,
            (happened & (EpollRdHup | EpollHup | EpollErr)) != 0);
    }

    private void WakeOneResting()
    {
        for (var i = 1; i < _loops.Length; i++)
        {
            if (_loops[i].Resting)
            {
                _loops[i].WakeFromRest();
                return;
            }
        }
    }

    /// <summary>
    /// The socket an event's token names, or null when that registration is gone. Without the lock: the socket is
    /// read before its generation, in the order opposite to <see cref="Register"/>'s writes, so a slot reused
    /// since the event was taken shows a newer generation and the event is dropped. A table is replaced, never
    /// shrunk, when it grows, and a registration is in the current table before epoll_ctl adds its socket, so the
    /// table a loop reads after epoll_wait always holds the slot of every event that wait returned. A socket just
    /// released may still be told of an event taken before its release, as it could under a lock; each ignores it.
    /// </summary>
    private IPollable? Lookup(ulong token)
    {
        var table = Volatile.Read(ref _table);
        var slot = (int)(uint)token;
        if ((uint)slot >= (uint)table.Pollables.Length) return null;
        var pollable = Volatile.Read(ref table.Pollables[slot]);
        return pollable is not null && Volatile.Read(ref table.Generations[slot]) == (uint)(token >> 32) ? pollable : null;
    }

    /// <summary>The registered sockets by slot, with each slot's generation (bumped each time the slot is reused).</summary>
    private sealed class SlotTable(int size)
    {
        public readonly IPollable?[] Pollables = new IPollable?[size];
        public readonly uint[] Generations = new uint[size];

        public SlotTable Grown()
        {
            var grown = new SlotTable(Pollables.Length * 2);
            Pollables.CopyTo(grown.Pollables, 0);
            Generations.CopyTo(grown.Generations, 0);
            return grown;
        }
    }

    /// <summary>One loop: its epoll instance, the eventfd that wakes it, and the work queued for its thread.</summary>
    private sealed class Loop
    {
        private const int Waiting = 1;
        private readonly int _wake;
        private int _state;
        private int _resting;
        private readonly ManualResetEventSlim _woken = new(false, spinCount: 0);

        public Loop(int index)
        {
            Index = index;
            Epoll = epoll_create1(0x80000 /* EPOLL_CLOEXEC */);
            if (Epoll < 0) throw new InvalidOperationException($"epoll_create1 failed: errno {Marshal.GetLastPInvokeError()}");
            _wake = eventfd(0, 0x80000 /* EFD_CLOEXEC */ | 0x800 /* EFD_NONBLOCK */);
            if (_wake < 0) throw new InvalidOperationException($"eventfd failed: errno {Marshal.GetLastPInvokeError()}");
            var ev = new EpollEvent { Events = EpollIn, Data = WakeToken };
            if (epoll_ctl(Epoll, CtlAdd, _wake, ref ev) != 0)
                throw new InvalidOperationException($"epoll_ctl ADD failed: errno {Marshal.GetLastPInvokeError()}");
        }

        public int Index { get; }

        public int Epoll { get; }

        /// <summary>How busy this loop has been lately.</summary>
        public LoopLoad Load;

        /// <summary>How many times the loop has come back from resting.</summary>
        public int Returns;

        /// <summary>True while the loop rests and the first loop takes its events.</summary>
        public bool Resting => Volatile.Read(ref _resting) == 1;

        /// <summary>
        /// On this loop's own thread, with nothing queued: sleeps until woken, while the first loop watches this loop's
        /// epoll instance from its own (<paramref name="firstEpoll"/>, under <paramref name="token"/>). Added level-
        /// triggered, the instance tells the first loop at once of events already waiting, so none is left unread
        /// between this loop's last wait and the first loop's next. Work queued meanwhile wakes it (see
        /// <see cref="Execute"/>): it says it rests and then looks at its queue, a producer enqueues and then looks
        /// at whether it rests, so one of the two always sees the other.
        /// </summary>
        public void Rest(int firstEpoll, ulong token)
        {
            _woken.Reset();
            Interlocked.Exchange(ref _resting, 1);
            var ev = new EpollEvent { Events = EpollIn, Data = token };
            if (epoll_ctl(firstEpoll, CtlAdd, Epoll, ref ev) != 0)
            {
                Interlocked.Exchange(ref _resting, 0);
                return;
            }
            if (!Queue.IsEmpty) WakeFromRest();
            _woken.Wait();
            epoll_ctl(firstEpoll, CtlDel, Epoll, ref ev);
            Load = new LoopLoad(Stopwatch.GetTimestamp());
            Interlocked.Increment(ref Returns);
        }

        public void WakeForStop()
        {
            WakeFromRest();
            long one = 1;
            _ = write(_wake, ref one, sizeof(long));
        }

        /// <summary>After its thread has ended: gives back the descriptors and the event it rests on.</summary>
        public void Close()
        {
            close(_wake);
            close(Epoll);
            _woken.Dispose();
        }

        public void WakeFromRest()
        {
            if (Interlocked.CompareExchange(ref _resting, 0, 1) == 1) _woken.Set();
        }

        public System.Collections.Concurrent.ConcurrentQueue<Akka.Dispatch.IRunnable> Queue { get; } = new();

        /// <summary>
        /// Says the loop is about to wait, then looks at its queue once more: true when it may wait without a
        /// timeout. A producer enqueues and then looks at the state, the loop states and then looks at the queue
        /// (both with full fences), so one of the two always sees the other: no work is left waiting for an event.
        /// </summary>
        public bool PrepareToWait()
        {
            Interlocked.Exchange(ref _state, Waiting);
            if (Queue.IsEmpty) return true;
            Interlocked.Exchange(ref _state, 0);
            return false;
        }

        public void Awake() => Interlocked.Exchange(ref _state, 0);

        public void WakeIfWaiting()
        {
            if (Volatile.Read(ref _state) == Waiting && Interlocked.CompareExchange(ref _state, 0, Waiting) == Waiting)
            {
                long one = 1;
                _ = write(_wake, ref one, sizeof(long));
            }
        }

        public void ClearWake()
        {
            long count = 0;
            _ = read(_wake, ref count, sizeof(long));
        }

        public void RunTurns(int most)
        {
            for (var i = 0; i < most && Queue.TryDequeue(out var work); i++)
            {
                try
                {
                    work.Run();
                }
                catch (Exception e)
                {
                    // Akka's turns handle an actor's failure themselves; anything that still escapes must not end
                    // the loop that every one of its connections depends on.
                    Console.Error.WriteLine($"actortcp: a turn on an epoll loop failed: {e}");
                }
            }
        }
    }

    /// <summary>
    /// The share of time a loop spent working rather than waiting, over windows of wall time: a pass's work is
    /// counted from the end of its wait to the end of its turns.
    /// </summary>
    internal struct LoopLoad(long start)
    {
        private long _windowStart = start;
        private long _busy;

        /// <summary>
        /// Counts one pass; when a window of at least <paramref name="window"/> ticks has ended with it, returns the
        /// share of that window spent working (0 to 1) and starts the next; otherwise -1.
        /// </summary>
        public double Share(long passStart, long passEnd, long window)
        {
            _busy += passEnd - passStart;
            var elapsed = passEnd - _windowStart;
            if (elapsed < window) return -1;
            var share = (double)_busy / elapsed;
            _windowStart = passEnd;
            _busy = 0;
            return share;
        }
    }

    // struct epoll_event as x86-64 lays it out: packed, 12 bytes (arm64 aligns it to 16, hence x64 only): the events
    // at 0, the token at 4.
    private const int EventSize = 12;

    [StructLayout(LayoutKind.Explicit, Size = EventSize)]
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
    private static extern int eventfd(uint initval, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, ref long value, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern nint read(int fd, ref long value, nint count);

    /// <summary>epoll_wait(2) into a pinned buffer; a failed wait (EINTR) returns -1 and is simply waited again.</summary>
    private static unsafe int Wait(int epoll, byte[] pinnedEvents, int timeout) =>
        epoll_wait(epoll, (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(pinnedEvents)),
            pinnedEvents.Length / EventSize, timeout);

    // A pointer and no SetLastError: the JIT makes the call inline, with no marshalling stub.
    [DllImport("libc")]
    private static extern unsafe int epoll_wait(int epfd, byte* events, int maxevents, int timeout);
}
