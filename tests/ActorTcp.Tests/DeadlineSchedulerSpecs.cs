using System.Collections.Concurrent;
using System.Diagnostics;
using ActorTcp.Timing;
using Akka.Actor;
using Akka.TestKit.Xunit2;
using Xunit.Abstractions;

namespace ActorTcp.Tests;

/// <summary>
/// The scheduler that sleeps until its earliest deadline. It is the subject here, so these specs run on real time:
/// they wait for events (never for a fixed time) and check only what cannot depend on the machine's speed.
/// </summary>
public sealed class DeadlineSchedulerSpecs(ITestOutputHelper output)
    : TestKit("akka.scheduler.implementation = \"ActorTcp.Timing.DeadlineScheduler, ActorTcp\"", output)
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    private IScheduler Scheduler => Sys.Scheduler;

    private int Waiting => ((DeadlineScheduler)Sys.Scheduler).Waiting;

    [Fact]
    public async Task Timers_fire_in_deadline_order_never_before_their_deadline_and_one_set_while_it_sleeps_for_a_later_wakes_it()
    {
        var fired = new ConcurrentQueue<(int Delay, TimeSpan After)>();
        var both = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var clock = Stopwatch.StartNew();
        void Set(int ms) => Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(ms), () =>
        {
            fired.Enqueue((ms, clock.Elapsed));
            if (fired.Count == 2) both.TrySetResult();
        });

        // The thread goes to sleep for an hour; the timers set next must wake it, or they wait that hour.
        Scheduler.Advanced.ScheduleOnce(TimeSpan.FromHours(1), () => fired.Enqueue((-1, clock.Elapsed)));
        await AwaitConditionAsync(() => Task.FromResult(Waiting == 1), Patience);
        var setAt = clock.Elapsed;
        Set(250);
        Set(100);
        await both.Task.WaitAsync(Patience);

        Assert.Equal([100, 250], fired.Select(f => f.Delay).ToArray());
        Assert.All(fired, f => Assert.True(f.After - setAt >= TimeSpan.FromMilliseconds(f.Delay),
            $"the {f.Delay} ms timer fired {(f.After - setAt).TotalMilliseconds} ms after it was set"));
        Assert.Equal(1, Waiting);
    }

    [Fact]
    public async Task A_repeated_timer_fires_until_it_is_cancelled_and_a_cancelled_timer_never_fires()
    {
        var repeats = 0;
        var cancelled = 0;
        var repeating = new Cancelable(Scheduler);
        var third = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Scheduler.Advanced.ScheduleRepeatedly(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(20), () =>
        {
            if (Interlocked.Increment(ref repeats) == 3)
            {
                repeating.Cancel();
                third.TrySetResult();
            }
        }, repeating);
        var never = new Cancelable(Scheduler);
        Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(30), () => Interlocked.Increment(ref cancelled), never);
        never.Cancel();

        await third.Task.WaitAsync(Patience);
        // A timer set after all of them fires after all of them: by then each has had its chance to (wrongly) fire.
        var marker = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(100), () => marker.TrySetResult());
        await marker.Task.WaitAsync(Patience);

        Assert.Equal(3, Volatile.Read(ref repeats));
        Assert.Equal(0, Volatile.Read(ref cancelled));
        Assert.Equal(0, Waiting);
    }

    [Fact]
    public async Task Timers_cancelled_by_the_thousand_are_swept_long_before_their_deadline_and_live_ones_still_fire()
    {
        var live = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Scheduler.Advanced.ScheduleOnce(TimeSpan.FromMilliseconds(200), () => live.TrySetResult());
        for (var i = 0; i < 10_000; i++)
        {
            // As a session's handshake timer: set for a long while, cancelled at once.
            var timer = new Cancelable(Scheduler);
            Scheduler.ScheduleTellOnce(TimeSpan.FromHours(1), TestActor, i, ActorRefs.NoSender, timer);
            timer.Cancel();
        }

        Assert.InRange(Waiting, 1, 1100);
        await live.Task.WaitAsync(Patience);
        ExpectNoMsg(TimeSpan.Zero);
    }

    [Fact]
    public void When_it_stops_what_was_waiting_runs_once_the_cancelled_do_not_and_new_timers_are_refused()
    {
        using var owned = new DeadlineScheduler(Sys.Settings.Config, Sys.Log);
        IScheduler scheduler = owned;
        var ran = 0;
        var cancelledRan = 0;
        scheduler.Advanced.ScheduleOnce(TimeSpan.FromHours(1), () => Interlocked.Increment(ref ran));
        var cancel = new Cancelable(scheduler);
        scheduler.Advanced.ScheduleOnce(TimeSpan.FromHours(1), () => Interlocked.Increment(ref cancelledRan), cancel);
        cancel.Cancel();

        owned.Dispose();
        owned.Dispose();

        Assert.Equal(1, ran);
        Assert.Equal(0, cancelledRan);
        Assert.Throws<SchedulerException>(() => scheduler.Advanced.ScheduleOnce(TimeSpan.FromSeconds(1), () => { }));
    }

    [Fact]
    public void Akka_timers_and_asks_run_on_it()
    {
        var echo = Sys.ActorOf(Props.Create(() => new Ticker()));
        echo.Tell("start", TestActor);
        ExpectMsg("tick", Patience);
        ExpectMsg("tick", Patience);
        // An ask that nobody answers ends by the scheduler's timeout.
        Assert.ThrowsAny<Exception>(() => echo.Ask("silence", TimeSpan.FromMilliseconds(50)).Wait(Patience));
    }

    private sealed class Ticker : ReceiveActor, IWithTimers
    {
        public Ticker()
        {
            Receive<string>(s => s == "start", _ => Timers.StartPeriodicTimer("tick", new Tick(Sender), TimeSpan.FromMilliseconds(10)));
            Receive<string>(_ => { });
            Receive<Tick>(t => t.To.Tell("tick"));
        }

        public ITimerScheduler Timers { get; set; } = null!;

        private sealed record Tick(IActorRef To);
    }
}
