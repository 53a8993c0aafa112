using System.Diagnostics;
using ActorTcp.LoadTest.Clients;
using Akka.TestKit.Xunit2;

namespace ActorTcp.LoadTest.Tests;

/// <summary>
/// The clock the clients of a run share instead of a timer each, with the test actor as its client: on the test's time
/// (moved on by hand), and once on its own timer.
/// </summary>
public sealed class ClientClockTests : TestKit
{
    private static readonly TimeSpan Quiet = TimeSpan.FromMilliseconds(100);

    private TimeSpan _now = TimeSpan.FromHours(1);

    [Fact]
    public void A_registered_client_beats_once_per_period_at_the_phase_it_asked_for()
    {
        // 200 ms in 20 slots of 10 ms.
        var clock = ClientClock.Manual(TimeSpan.FromMilliseconds(200), () => _now);
        Assert.Equal(20, clock.Slots);
        clock.Register(TestActor, 0.5);

        // Half a period, to the slot: 1 + 0.5 * 19 = 10 slots ahead.
        Advance(clock, TimeSpan.FromMilliseconds(90));
        ExpectNoMsg(Quiet);
        Advance(clock, TimeSpan.FromMilliseconds(10));
        ExpectMsg<Beat>();

        for (var i = 0; i < 3; i++)
        {
            Advance(clock, TimeSpan.FromMilliseconds(190));
            ExpectNoMsg(Quiet);
            Advance(clock, TimeSpan.FromMilliseconds(10));
            ExpectMsg<Beat>();
        }
    }

    [Fact]
    public void A_clock_that_is_late_catches_up_with_one_beat_per_client_however_late()
    {
        var clock = ClientClock.Manual(TimeSpan.FromMilliseconds(200), () => _now);
        clock.Register(TestActor, 0);

        // One look at the time, 25 periods after the last: the timer's callback was held up that long.
        _now += TimeSpan.FromSeconds(5);
        clock.Pass();
        ExpectMsg<Beat>();
        ExpectNoMsg(Quiet);
    }

    [Fact]
    public void A_client_that_leaves_gets_no_more_beats_and_the_clock_starts_again_for_the_next()
    {
        var clock = ClientClock.Manual(TimeSpan.FromMilliseconds(100), () => _now);
        var other = CreateTestProbe();
        var otherSlot = clock.Register(other, 0.5);
        var slot = clock.Register(TestActor, 0);
        Advance(clock, TimeSpan.FromMilliseconds(100));
        ExpectMsg<Beat>();
        other.ExpectMsg<Beat>();

        clock.Unregister(TestActor, slot);
        Assert.Equal(1, clock.Registered);
        Advance(clock, TimeSpan.FromMilliseconds(100));
        other.ExpectMsg<Beat>();
        ExpectNoMsg(Quiet);

        clock.Unregister(other, otherSlot);
        Assert.Equal(0, clock.Registered);
        Advance(clock, TimeSpan.FromMilliseconds(100));
        other.ExpectNoMsg(Quiet);

        // Started again from the registration, not from where it stopped.
        _now += TimeSpan.FromMinutes(1);
        clock.Register(TestActor, 0);
        Advance(clock, TimeSpan.FromMilliseconds(10));
        ExpectMsg<Beat>();
    }

    [Fact]
    public void Clients_spread_over_the_slots_by_their_phase()
    {
        var clock = new ClientClock(TimeSpan.FromSeconds(5));
        var slots = Enumerable.Range(0, 10).Select(i => clock.Register(TestActor, i / 10.0)).ToList();

        Assert.Equal(10, slots.Distinct().Count());
        Assert.Equal(10, clock.Registered);
        slots.ForEach(s => clock.Unregister(TestActor, s));
        Assert.Equal(0, clock.Registered);
    }

    [Fact]
    public void On_its_own_timer_the_clock_beats_and_never_sooner_than_once_per_period()
    {
        // Its slots follow a stopwatch started at the first registration: the eleventh beat comes ten periods after
        // the first at the soonest. A busy machine can make beats late, and a late one is followed by the next one
        // sooner (the clock catches up), so only the whole run is bounded, from before the registration.
        var watch = Stopwatch.StartNew();
        var clock = new ClientClock(TimeSpan.FromMilliseconds(100));
        var slot = clock.Register(TestActor, 0);
        for (var i = 0; i < 11; i++)
        {
            ExpectMsg<Beat>(TimeSpan.FromSeconds(5));
        }
        var elapsed = watch.Elapsed;
        clock.Unregister(TestActor, slot);

        Assert.True(elapsed >= TimeSpan.FromMilliseconds(1000), $"eleven beats in {elapsed.TotalMilliseconds:F0} ms");
    }

    /// <summary>Moves the test's time on in 10 ms steps (the clock looks at it at each), as its timer would.</summary>
    private void Advance(ClientClock clock, TimeSpan by)
    {
        var end = _now + by;
        while (_now < end)
        {
            _now += TimeSpan.FromMilliseconds(10);
            clock.Pass();
        }
    }
}
