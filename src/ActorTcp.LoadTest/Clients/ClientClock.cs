// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using Akka.Actor;

namespace ActorTcp.LoadTest.Clients;

/// <summary>The clock's message to a client whose turn it is; one instance for every client and every turn.</summary>
internal sealed record Beat
{
    public static readonly Beat Instance = new();
}

/// <summary>
/// One periodic clock shared by many clients, in place of an Akka timer per client (a timer scheduler, its
/// dictionary, a registration and a cancellation source each: about 550 B per client, for one message per period).
/// The period is cut into slots; a client is an entry in one slot, and each time the clock passes that slot it is sent
/// <see cref="Beat"/>, so it beats once per period at the slot's phase. The clock runs while anyone is registered
/// and stops when the last client leaves (nothing to dispose).
/// </summary>
internal sealed class ClientClock
{
    /// <summary>No finer than this: a wheel of 10 ms slots wakes up a hundred times a second at most.</summary>
    private static readonly TimeSpan FinestSlot = TimeSpan.FromMilliseconds(10);

    private const int MostSlots = 1024;

    private readonly object _gate = new();
    private readonly IActorRef?[][] _slots;
    private readonly int[] _counts;
    private readonly long _slotTicks;
    private readonly Stopwatch _elapsed = new();

    // Null: the clock keeps time with its stopwatch and a timer. Else a test's time, moved on by calling Pass.
    private readonly Func<TimeSpan>? _manual;
    private TimeSpan _manualOrigin;
    private bool _running;
    private Timer? _timer;
    private long _passed;
    private int _registered;

    public ClientClock(TimeSpan period)
        : this(period, null)
    {
    }

    /// <summary>A clock on a test's time: it beats only when <see cref="Pass"/> is called, as far as <paramref name="now"/> says.</summary>
    internal static ClientClock Manual(TimeSpan period, Func<TimeSpan> now) => new(period, now);

    private ClientClock(TimeSpan period, Func<TimeSpan>? manual)
    {
        _manual = manual;
        if (period <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(period), period, "a clock's period must be positive");
        }
        Period = period;
        var slots = (int)Math.Clamp(period.Ticks / FinestSlot.Ticks, 1, MostSlots);
        _slotTicks = period.Ticks / slots;
        _slots = new IActorRef?[slots][];
        _counts = new int[slots];
    }

    public TimeSpan Period { get; }

    /// <summary>How many slots the period is cut into.</summary>
    public int Slots => _slots.Length;

    /// <summary>Clients registered now.</summary>
    public int Registered
    {
        get
        {
            lock (_gate)
            {
                return _registered;
            }
        }
    }

    /// <summary>
    /// Registers <paramref name="client"/> to be sent <see cref="Beat"/> once per period, the first time after about
    /// <paramref name="phase"/> (in [0, 1): that fraction of a period, rounded up to the next slot). Returns the slot,
    /// which <see cref="Unregister"/> needs.
    /// </summary>
    public int Register(IActorRef client, double phase)
    {
        lock (_gate)
        {
            if (_registered == 0)
            {
                // Restarted from the first slot: no client is waiting on any phase of an earlier run of the clock.
                _passed = 0;
                _running = true;
                if (_manual is not null)
                {
                    _manualOrigin = _manual();
                }
                else
                {
                    _elapsed.Restart();
                    var every = Math.Max(1, _slotTicks / TimeSpan.TicksPerMillisecond);
                    _timer = new Timer(static state => ((ClientClock)state!).Pass(), this, every, every);
                }
            }
            var ahead = 1 + (int)(Math.Clamp(phase, 0, 1) * (_slots.Length - 1));
            var slot = (int)((_passed + ahead) % _slots.Length);
            var entries = _slots[slot] ??= new IActorRef?[4];
            if (_counts[slot] == entries.Length)
            {
                Array.Resize(ref entries, entries.Length * 2);
                _slots[slot] = entries;
            }
            entries[_counts[slot]++] = client;
            _registered++;
            return slot;
        }
    }

    /// <summary>Takes <paramref name="client"/> out of <paramref name="slot"/>; it is sent no Beat after this returns.</summary>
    public void Unregister(IActorRef client, int slot)
    {
        lock (_gate)
        {
            var entries = _slots[slot];
            var count = _counts[slot];
            for (var i = 0; i < count; i++)
            {
                if (ReferenceEquals(entries![i], client))
                {
                    entries[i] = entries[count - 1];
                    entries[count - 1] = null;
                    _counts[slot] = count - 1;
                    if (--_registered == 0)
                    {
                        _running = false;
                        _timer?.Dispose();
                        _timer = null;
                    }
                    return;
                }
            }
        }
    }

    /// <summary>
    /// Walks every slot whose time has come since the last call: a timer callback that ran late catches up, so each
    /// client still beats once per period on average.
    /// </summary>
    internal void Pass()
    {
        lock (_gate)
        {
            if (!_running)
            {
                return;
            }
            var elapsed = _manual is null ? _elapsed.Elapsed : _manual() - _manualOrigin;
            var due = elapsed.Ticks / _slotTicks;
            // After a stall longer than a period, one round is enough: a client beats once, not once per lost period.
            if (due - _passed > _slots.Length)
            {
                _passed = due - _slots.Length;
            }
            while (_passed < due)
            {
                _passed++;
                var slot = (int)(_passed % _slots.Length);
                var entries = _slots[slot];
                for (var i = 0; i < _counts[slot]; i++)
                {
                    entries![i]!.Tell(Beat.Instance, ActorRefs.NoSender);
                }
            }
        }
    }
}
