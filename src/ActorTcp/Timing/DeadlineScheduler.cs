// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using Akka.Actor;
using Akka.Configuration;
using Akka.Dispatch;
using Akka.Event;

namespace ActorTcp.Timing;

/// <summary>
/// Akka's scheduler (<c>akka.scheduler.implementation</c>) as one thread that sleeps until the earliest deadline.
/// <para>
/// Akka's own scheduler wakes on every tick, due work or not: a .NET timer fires, a pool thread runs the tick and
/// looks at the wheel. That is 20 to 100 wake-ups a second on a server whose timers are seconds apart (the
/// heartbeat, the listener's summary), each taking two threads out of their sleep. Here the timers wait in a heap
/// ordered by deadline, and the thread waits for the first of them, or for a new one that is due sooner: an idle
/// server wakes when a timer is due and not otherwise, and a timer fires within a millisecond of its deadline
/// instead of on the next tick.
/// </para>
/// <para>
/// As in Akka's scheduler, the work runs on the scheduler's thread (a tell, or an action that must be short), a
/// repeated task keeps its cadence from its deadlines, a cancelled one is skipped, and what is still waiting when
/// the actor system ends runs once then. A cancelled timer is dropped when its deadline comes, or sooner when the
/// cancelled ones come to outnumber the rest, so that timers set and cancelled by the thousand hold no memory.
/// </para>
/// </summary>
public sealed class DeadlineScheduler : SchedulerBase, IDisposable
{
    /// <summary>The heap is swept of cancelled timers when it has grown this much past the last sweep.</summary>
    private const int SweepAbove = 1024;

    private static readonly TimeSpan ShutdownWait = TimeSpan.FromSeconds(5);

    private readonly object _gate = new();
    private readonly PriorityQueue<Timer, long> _timers = new();
    private readonly Thread _thread;
    // The monotonic clock's zero: the first scheduler's start in this process.
    private static readonly long Origin = Stopwatch.GetTimestamp();

    // The deadline the thread sleeps until (long.MinValue while it runs, long.MaxValue with no timer): a new timer
    // that is due sooner wakes it, any other waits its turn.
    private long _sleepsUntil = long.MinValue;
    private int _sweepAt = SweepAbove;
    private bool _stopped;

    public DeadlineScheduler(Config scheduler, ILoggingAdapter log) : base(scheduler, log)
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "actortcp-timers" };
        _thread.Start();
    }

    /// <summary>Timers waiting, cancelled ones included until they are swept (for the tests).</summary>
    internal int Waiting
    {
        get
        {
            lock (_gate) return _timers.Count;
        }
    }

    // In UTC: a session reads it twice per request, and the local time zone's offset is work nobody here uses (every
    // reader takes UtcTicks or a difference of two readings).
    protected override DateTimeOffset TimeNow => DateTimeOffset.UtcNow;

    public override TimeSpan MonotonicClock => Stopwatch.GetElapsedTime(Origin);

    public override TimeSpan HighResMonotonicClock => Stopwatch.GetElapsedTime(Origin);

    protected override void InternalScheduleTellOnce(TimeSpan delay, ICanTell receiver, object message, IActorRef sender, ICancelable cancelable) =>
        Add(delay, TimeSpan.Zero, new Tell(receiver, message, sender), cancelable);

    protected override void InternalScheduleTellRepeatedly(TimeSpan initialDelay, TimeSpan interval, ICanTell receiver, object message,
        IActorRef sender, ICancelable cancelable) =>
        Add(initialDelay, interval, new Tell(receiver, message, sender), cancelable);

    protected override void InternalScheduleOnce(TimeSpan delay, Action action, ICancelable cancelable) =>
        Add(delay, TimeSpan.Zero, new ActionRunnable(action), cancelable);

    protected override void InternalScheduleOnce(TimeSpan delay, IRunnable action, ICancelable cancelable) =>
        Add(delay, TimeSpan.Zero, action, cancelable);

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, Action action, ICancelable cancelable) =>
        Add(initialDelay, interval, new ActionRunnable(action), cancelable);

    protected override void InternalScheduleRepeatedly(TimeSpan initialDelay, TimeSpan interval, IRunnable action, ICancelable cancelable) =>
        Add(initialDelay, interval, action, cancelable);

    /// <summary>Stops the thread, then runs once what was still waiting and not cancelled, as Akka's scheduler does.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_stopped) return;
            _stopped = true;
            Monitor.Pulse(_gate);
        }
        if (Thread.CurrentThread != _thread && !_thread.Join(ShutdownWait))
        {
            Log.Warning("The scheduler's thread did not stop within {0}", ShutdownWait);
        }
        List<Timer> left;
        lock (_gate)
        {
            left = new List<Timer>(_timers.Count);
            while (_timers.TryDequeue(out var timer, out _)) left.Add(timer);
        }
        foreach (var timer in left)
        {
            if (!timer.Cancelled) RunSafely(timer);
        }
    }

    private static long Now => Stopwatch.GetElapsedTime(Origin).Ticks;

    private void Add(TimeSpan delay, TimeSpan interval, IRunnable work, ICancelable? cancelable)
    {
        var timer = new Timer(work, cancelable, interval.Ticks);
        lock (_gate)
        {
            if (_stopped) throw new SchedulerException("cannot schedule after the scheduler has stopped");
            var due = Now + Math.Max(0, delay.Ticks);
            _timers.Enqueue(timer, due);
            if (due < _sleepsUntil) Monitor.Pulse(_gate);
            if (_timers.Count > _sweepAt) Sweep();
        }
    }

    /// <summary>Drops the cancelled timers (under the gate); the next sweep waits until the heap has doubled again.</summary>
    private void Sweep()
    {
        var kept = new List<(Timer, long)>(_timers.Count);
        foreach (var (timer, due) in _timers.UnorderedItems)
        {
            if (!timer.Cancelled) kept.Add((timer, due));
        }
        if (kept.Count < _timers.Count)
        {
            _timers.Clear();
            _timers.EnqueueRange(kept);
        }
        _sweepAt = Math.Max(SweepAbove, 2 * _timers.Count);
    }

    private void Run()
    {
        var due = new List<(Timer Timer, long Deadline)>();
        while (true)
        {
            lock (_gate)
            {
                while (true)
                {
                    if (_stopped) return;
                    var now = Now;
                    while (_timers.TryPeek(out var timer, out var deadline) && deadline <= now)
                    {
                        _timers.Dequeue();
                        due.Add((timer, deadline));
                    }
                    if (due.Count > 0) break;
                    if (_timers.TryPeek(out _, out var next))
                    {
                        _sleepsUntil = next;
                        // Rounded up to the millisecond: never woken before the deadline, at most a millisecond after.
                        var ms = (next - now + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
                        Monitor.Wait(_gate, (int)Math.Min(ms, int.MaxValue));
                    }
                    else
                    {
                        _sleepsUntil = long.MaxValue;
                        Monitor.Wait(_gate);
                    }
                    _sleepsUntil = long.MinValue;
                }
            }
            foreach (var (timer, deadline) in due)
            {
                Fire(timer, deadline);
            }
            due.Clear();
        }
    }

    private void Fire(Timer timer, long deadline)
    {
        if (timer.Cancelled) return;
        RunSafely(timer);
        if (timer.Interval <= 0 || timer.Cancelled) return;
        lock (_gate)
        {
            if (_stopped) return;
            // The next deadline keeps the cadence; after a stall of more than one interval it counts from now, once.
            var now = Now;
            var next = deadline + timer.Interval;
            _timers.Enqueue(timer, next > now ? next : now + timer.Interval);
        }
    }

    private void RunSafely(Timer timer)
    {
        try
        {
            timer.Work.Run();
        }
        catch (SchedulerException)
        {
            // Thrown by work aimed at an actor system that is going away.
        }
        catch (Exception e)
        {
            Log.Error(e, "A scheduled task failed: {0}", timer.Work);
        }
    }

    private sealed class Timer(IRunnable work, ICancelable? cancelable, long interval)
    {
        public IRunnable Work { get; } = work;

        public long Interval { get; } = interval;

        public bool Cancelled => cancelable?.IsCancellationRequested ?? false;
    }

    private sealed class Tell(ICanTell receiver, object message, IActorRef sender) : IRunnable
    {
        public void Run() => receiver.Tell(message, sender);

        public void Execute() => Run();

        public override string ToString() => $"tell {message} to {receiver}";
    }
}
