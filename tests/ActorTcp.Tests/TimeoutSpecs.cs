using ActorTcp.Sessions;
using ActorTcp.Heartbeat;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit.Abstractions;

namespace ActorTcp.Tests;

public sealed class TimeoutSpecs(ITestOutputHelper output)
    : TestKit("akka.scheduler.implementation = \"Akka.TestKit.TestScheduler, Akka.TestKit\"", output)
{
    private readonly ServerStats _stats = new("test", DateTimeOffset.UtcNow);

    private TestScheduler Clock => (TestScheduler)Sys.Scheduler;

    private const string Timeouts = "actor-tcp { idle-timeout = 10s, handshake-timeout = 20s, heartbeat-tick = 1s }";

    private (SessionHarness Session, Akka.Actor.IActorRef Supervisor) StartWatched(long id = 1)
    {
        var settings = SessionHarness.Settings(Timeouts);
        var supervisor = Sys.ActorOf(HeartbeatSupervisor.Props(settings.HeartbeatTick, settings.IdleTimeout, settings.HandshakeTimeout));
        var s = SessionHarness.Start(this, settings, _stats, TestActor, id: id);
        supervisor.Tell(new Track(s.Ticket), TestActor);
        AwaitTracking(supervisor);
        return (s, supervisor);
    }

    /// <summary>
    /// The supervisor has started its timer and taken the tickets: only then may the clock move, or the first
    /// ticks would pass before it listens for them.
    /// </summary>
    private void AwaitTracking(Akka.Actor.IActorRef supervisor)
    {
        supervisor.Tell(GetTickReport.Instance, TestActor);
        ExpectMsg<TickReport>();
    }

    private void Advance(int seconds)
    {
        for (var i = 0; i < seconds; i++) Clock.Advance(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public void Idle_session_is_closed_with_IdleTimeout_after_the_configured_silence()
    {
        var (s, _) = StartWatched();
        s.Named();
        Advance(9);
        s.Probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Advance(2);
        Assert.Equal("ERR idle timeout", s.ExpectLine());
        s.ExpectCall<HalfClosed>();
        Assert.Equal(CloseReason.IdleTimeout, s.ExpectCall<Ended>().Reason);
    }

    [Fact]
    public void A_heartbeating_session_stays_while_a_silent_one_is_closed()
    {
        var settings = SessionHarness.Settings(Timeouts);
        var supervisor = Sys.ActorOf(HeartbeatSupervisor.Props(settings.HeartbeatTick, settings.IdleTimeout, settings.HandshakeTimeout));
        var alive = SessionHarness.Start(this, settings, _stats, TestActor, id: 1).Named("alive");
        var silent = SessionHarness.Start(this, settings, _stats, TestActor, id: 2).Named("silent");
        supervisor.Tell(new Track(alive.Ticket), TestActor);
        supervisor.Tell(new Track(silent.Ticket), TestActor);
        AwaitTracking(supervisor);
        for (var second = 0; second < 25; second++)
        {
            if (second % 3 == 0)
            {
                alive.Send("HEARTBEAT\n");
                // The heartbeat is processed before time moves on: PING proves the session has read it.
                alive.Send("PING\n");
                Assert.Equal("PONG", alive.ExpectLine());
            }
            Clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal("ERR idle timeout", silent.ExpectLine());
        alive.Send("PING\n");
        Assert.Equal("PONG", alive.ExpectLine());
    }

    [Fact]
    public void A_client_that_never_finishes_the_dialog_is_closed_with_HandshakeTimeout_however_it_trickles()
    {
        var (s, _) = StartWatched();
        s.ExpectLines(2);
        for (var second = 0; second < 21; second++)
        {
            s.Send("x");
            Clock.Advance(TimeSpan.FromSeconds(1));
        }
        Assert.Equal("ERR handshake timeout", s.ExpectLine());
        s.ExpectCall<HalfClosed>();
        Assert.Equal(CloseReason.HandshakeTimeout, s.ExpectCall<Ended>().Reason);
    }

    [Fact]
    public void A_client_named_early_is_held_to_the_idle_timeout_not_the_handshake_deadline()
    {
        var (s, _) = StartWatched();
        s.Named();
        Advance(11);
        Assert.Equal("ERR idle timeout", s.ExpectLine());
    }

    [Fact]
    public void A_download_its_client_keeps_reading_however_slowly_is_not_idle_and_one_it_stopped_reading_is_cut()
    {
        var (s, _) = StartWatched();
        s.Named();
        // The client reads so slowly that the write in flight (the OK line and the file's bytes) takes far longer
        // than the idle timeout to complete; the kernel still takes a little of it now and then.
        s.Connection.AutoAck = false;
        long unsent = 1_000;
        s.Connection.Unsent = unsent;
        s.Send("GET welcome.txt\n");
        Assert.StartsWith("OK ", s.ExpectLine());
        // The session sets its first look, then reads what is unsent; the clock moves only once it has.
        AwaitCondition(() => s.Connection.UnsentReads >= 1, TimeSpan.FromSeconds(5));
        for (var look = 0; look < 6; look++)
        {
            var before = s.Ticket.LastActivityTicks;
            var reads = s.Connection.UnsentReads;
            s.Connection.Unsent = unsent -= 100;
            // A look every third of the idle timeout: four seconds pass exactly one. It reads what is unsent, counts
            // the bytes taken as activity, sets the next look and reads again.
            Advance(4);
            AwaitCondition(() => s.Connection.UnsentReads >= reads + 2, TimeSpan.FromSeconds(5));
            Assert.True(s.Ticket.LastActivityTicks > before, $"look {look}: the bytes taken were not counted as activity");
        }
        // 24 s with no write completed, against an idle timeout of 10 s: still streaming.
        var calls = s.Probe.ReceiveWhile(TimeSpan.FromMilliseconds(300), m => (ConnectionCall)m);
        Assert.DoesNotContain(calls, c => c is Aborted or HalfClosed or ClosedNow or Ended or Stopped or Wrote);

        // The client stops reading: one idle timeout later the download is cut, without a last line.
        Advance(11);
        s.ExpectCall<Aborted>();
        Assert.Equal(CloseReason.IdleTimeout, s.ExpectCall<Stopped>().Reason);
    }

    [Fact]
    public void A_reply_the_client_takes_late_counts_as_activity_when_it_is_taken()
    {
        var (s, _) = StartWatched();
        s.Named();
        // The reply stays in the kernel's buffer, unread, for 8 s of the 10 s idle timeout.
        s.Connection.AutoAck = false;
        s.Send("PING\n");
        Assert.Equal("PONG", s.ExpectLine());
        Advance(8);
        s.Connection.ReleaseWrites();
        AwaitCondition(() => s.Ticket.LastActivityTicks == Clock.Now.UtcTicks, TimeSpan.FromSeconds(5));
        // 17 s after the request, 9 s after its reply was taken: not idle; 11 s after: idle.
        Advance(9);
        s.Probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Advance(2);
        Assert.Equal("ERR idle timeout", s.ExpectLine());
    }

    [Fact]
    public void A_session_whose_last_line_never_drains_is_aborted_one_idle_timeout_later()
    {
        var (s, _) = StartWatched();
        s.Named();
        s.Connection.AutoAck = false;
        Advance(11);
        Assert.Equal("ERR idle timeout", s.ExpectLine());
        Advance(11);
        s.ExpectCall<Aborted>();
        Assert.Equal(CloseReason.IdleTimeout, s.ExpectCall<Stopped>().Reason);
    }

    [Fact]
    public void A_tls_client_whose_handshake_has_not_finished_in_time_is_closed_without_a_line_as_tls_failed()
    {
        var settings = SessionHarness.Settings(Timeouts);
        var supervisor = Sys.ActorOf(HeartbeatSupervisor.Props(settings.HeartbeatTick, settings.IdleTimeout, settings.HandshakeTimeout));
        var s = SessionHarness.Start(this, settings, _stats, TestActor, configure: c => c.Established = false);
        supervisor.Tell(new Track(s.Ticket), TestActor);
        AwaitTracking(supervisor);
        Advance(21);
        s.ExpectCall<Aborted>();
        Assert.Equal(CloseReason.TlsFailed, s.ExpectCall<Stopped>().Reason);
    }

    [Fact]
    public void A_lingering_session_whose_client_keeps_its_socket_open_is_closed_after_close_linger()
    {
        var (s, _) = StartWatched();
        s.Named();
        s.Send("QUIT\n");
        Assert.Equal("Goodbye!", s.ExpectLine());
        s.ExpectCall<HalfClosed>();
        Assert.Equal(CloseReason.Quit, s.ExpectCall<Ended>().Reason);
        // close-linger is 2 s by default: the socket is closed gracefully then, not reset.
        Clock.Advance(TimeSpan.FromMilliseconds(1900));
        s.Probe.ExpectNoMsg(TimeSpan.FromMilliseconds(100));
        Clock.Advance(TimeSpan.FromMilliseconds(200));
        s.ExpectCall<ClosedNow>();
        Assert.Equal(CloseReason.Quit, s.ExpectCall<Stopped>().Reason);
    }
}
