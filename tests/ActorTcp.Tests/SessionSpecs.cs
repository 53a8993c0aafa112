using System.Text;
using ActorTcp.Sessions;
using Akka.TestKit;
using Akka.TestKit.Xunit2;
using Xunit.Abstractions;

namespace ActorTcp.Tests;

public sealed class SessionSpecs(ITestOutputHelper output) : TestKit(output: output)
{
    private readonly ServerStats _stats = new("test", DateTimeOffset.UtcNow);

    private SessionHarness Start(string settings = "", bool binary = false, Action<FakeConnection>? configure = null) =>
        SessionHarness.Start(this, SessionHarness.Settings(settings), _stats, TestActor, binary, configure);

    [Fact]
    public void A_new_client_is_greeted_and_asked_its_name()
    {
        var s = Start();
        Assert.Equal(["Welcome!", "What's your name?"], s.ExpectLines(2));
    }

    [Fact]
    public void A_valid_name_is_greeted_and_opens_command_mode()
    {
        var s = Start().Named("José");
        s.Send("PING\n");
        Assert.Equal("PONG", s.ExpectLine());
        Assert.Equal("José", s.Ticket.Name);
    }

    [Fact]
    public void An_invalid_name_is_refused_with_a_reason_and_asked_again()
    {
        var s = Start();
        s.ExpectLines(2);
        s.Send("neo anderson\n");
        var lines = s.ExpectLines(2);
        Assert.StartsWith("ERR invalid name: ", lines[0]);
        Assert.Equal("What's your name?", lines[1]);
    }

    [Fact]
    public void The_dialog_answers_ping_ignores_heartbeat_and_reasks_on_a_blank_line()
    {
        var s = Start();
        s.ExpectLines(2);
        s.Send("ping\nHEARTBEAT\n\n");
        Assert.Equal(["PONG", "What's your name?"], s.ExpectLines(2));
    }

    [Fact]
    public void Exit_during_the_dialog_says_goodbye_and_closes()
    {
        var s = Start();
        s.ExpectLines(2);
        s.Send("EXIT\n");
        Assert.Equal("Goodbye!", s.ExpectLine());
        s.ExpectCall<HalfClosed>();
        Assert.Equal(CloseReason.Quit, s.ExpectCall<Ended>().Reason);
        s.Connection.PeerFinishes();
        Assert.Equal(CloseReason.Quit, s.ExpectCall<Stopped>().Reason);
    }

    [Fact]
    public void Echo_returns_everything_after_the_first_space_unchanged()
    {
        var s = Start().Named();
        s.Send("ECHO  two  spaces\nECHO\nEcHo\ttab\n");
        Assert.Equal([" two  spaces", "", "tab"], s.ExpectLines(3));
    }

    [Fact]
    public void Echo_of_invalid_utf8_comes_back_as_the_replacement_character()
    {
        var s = Start().Named();
        s.Connection.Receive([.. "ECHO a"u8, 0xFF, .. "b\n"u8]);
        Assert.Equal("a\uFFFDb", s.ExpectLine());
    }

    [Fact]
    public void An_unknown_command_names_the_verb_as_written()
    {
        var s = Start().Named();
        s.Send("fLy away\n");
        Assert.Equal("ERR unknown command: fLy (try HELP)", s.ExpectLine());
    }

    [Fact]
    public void Help_lists_its_lines_after_a_count()
    {
        var s = Start().Named();
        s.Send("help\n");
        var header = s.ExpectLine();
        var n = int.Parse(header["OK ".Length..]);
        var lines = s.ExpectLines(n);
        Assert.Contains(lines, l => l.StartsWith("GET "));
    }

    [Fact]
    public void Stats_reports_every_counter_on_one_line()
    {
        var s = Start().Named();
        s.Send("STATS\n");
        var line = s.ExpectLine();
        Assert.StartsWith("OK version=test ", line);
        foreach (var key in new[] { "connections=", "accepted=", "rejected=", "downloads=", "bytes_in=", "bytes_out=", "uptime_s=", "requests=", "lingering=", "closed_idle_timeout=0" })
            Assert.Contains(" " + key, line);
    }

    [Fact]
    public void Who_answers_with_the_directory_list_in_order_with_later_requests_behind_it()
    {
        var s = Start().Named();
        s.Send("WHO\nPING\n");
        ExpectMsg<WhoRequest>();
        LastSender.Tell(new WhoReply(["anna", "neo"]), TestActor);
        Assert.Equal(["OK 2", "anna", "neo", "PONG"], s.ExpectLines(4));
    }

    [Fact]
    public void Input_read_into_the_threads_buffer_and_left_waiting_outlives_the_turn_it_came_in()
    {
        // Both sessions run their turns on this thread, so they share its read buffer.
        var waiting = SessionHarness.Start(this, SessionHarness.Settings(), _stats, TestActor,
            dispatcher: CallingThreadDispatcher.Id).Named();
        var other = SessionHarness.Start(this, SessionHarness.Settings(), _stats, TestActor,
            dispatcher: CallingThreadDispatcher.Id, id: 2).Named("trinity");

        // The PING waits behind the WHO; the other session's read then lands where the PING was read.
        waiting.Connection.Offer("WHO\nPING\n");
        ExpectMsg<WhoRequest>();
        var directory = LastSender;
        other.Connection.Offer("ECHO overwrites the thread's buffer\n");
        Assert.Equal("overwrites the thread's buffer", other.ExpectLine());

        directory.Tell(new WhoReply(["neo", "trinity"]), TestActor);
        Assert.Equal(["OK 2", "neo", "trinity", "PONG"], waiting.ExpectLines(4));
    }

    [Fact]
    public void Pipelined_requests_split_anywhere_are_answered_in_order()
    {
        var s = Start().Named();
        var all = "PING\nECHO 1\nECHO 2\nPING\n";
        foreach (var ch in all) s.Send(ch.ToString());
        Assert.Equal(["PONG", "1", "2", "PONG"], s.ExpectLines(4));
    }

    [Fact]
    public void Pipelined_requests_are_answered_in_order_when_writes_are_acknowledged_by_message()
    {
        var s = Start(configure: c => c.CompletesWritesAtOnce = false).Named();
        s.Send("PING\nECHO a\n");
        s.Send("ECHO b\nPING\n");
        Assert.Equal(["PONG", "a", "b", "PONG"], s.ExpectLines(4));
    }

    [Fact]
    public void A_line_too_long_is_answered_skipped_and_the_session_goes_on()
    {
        var s = Start("actor-tcp.max-line-bytes = 8").Named();
        s.Send("ECHO 123456789\nPING\n");
        Assert.Equal(["ERR line too long (max 8 bytes)", "PONG"], s.ExpectLines(2));
    }

    [Fact]
    public void A_telnet_timing_mark_is_answered_in_order_and_the_session_goes_on()
    {
        var s = Start().Named();
        s.Connection.Receive([.. "PING\n"u8, 255, 244, 255, 253, 6, .. "ECHO hi\n"u8]);
        var lines = s.ExpectLines(2);
        Assert.Equal("PONG", lines[0]);
        Assert.Equal("\uFFFD\uFFFD\u0006hi", lines[1]);
    }

    [Fact]
    public void A_half_closed_client_gets_every_reply_then_the_close()
    {
        var s = Start().Named();
        s.Send("PING\nECHO last");
        s.Connection.PeerCloses();
        Assert.Equal(["PONG", "last"], s.ExpectLines(2));
        s.ExpectCall<HalfClosed>();
        Assert.Equal(CloseReason.PeerClosed, s.ExpectCall<Ended>().Reason);
        Assert.Equal(CloseReason.PeerClosed, s.ExpectCall<Stopped>().Reason);
    }

    [Fact]
    public void A_client_that_does_not_read_is_no_longer_read_past_max_pending_write_bytes()
    {
        var s = Start("actor-tcp.max-pending-write-bytes = 64").Named();
        s.Connection.AutoAck = false;
        s.Send("ECHO " + new string('x', 40) + "\n");
        s.ExpectCall<Wrote>();
        // With one write not taken, replies pile up in the session until the limit, and no further read is asked for.
        s.Send(string.Concat(Enumerable.Repeat("ECHO " + new string('y', 40) + "\n", 10)));
        s.Probe.ExpectNoMsg(TimeSpan.FromMilliseconds(300));
        s.Connection.ReleaseWrites();
        s.ExpectCall<Resumed>();
        Assert.All(s.ExpectLines(10), line => Assert.Equal(new string('y', 40), line));
    }

    [Fact]
    public void A_crash_inside_one_client_actor_closes_that_client_alone()
    {
        var victim = Start(configure: c => c.ThrowOnWriteContaining = "boom").Named("victim");
        var bystander = Start().Named("bystander");
        victim.Send("ECHO boom\n");
        victim.ExpectCall<Aborted>();
        Assert.Equal(CloseReason.Crash, victim.ExpectCall<Stopped>().Reason);
        bystander.Send("PING\n");
        Assert.Equal("PONG", bystander.ExpectLine());
    }

    [Fact]
    public void A_reset_while_talking_ends_the_session_as_reset()
    {
        var s = Start().Named();
        s.Connection.Resets();
        Assert.Equal(CloseReason.Reset, s.ExpectCall<Stopped>().Reason);
    }

    [Fact]
    public void Replies_held_by_a_full_kernel_buffer_go_out_before_the_last_line_and_the_fin()
    {
        var s = Start(configure: c => c.CompletesWritesAtOnce = false).Named();
        s.Send("PING\nQUIT\nPING\n");
        Assert.Equal(["PONG", "Goodbye!"], s.ExpectLines(2));
        s.ExpectCall<HalfClosed>();
        Assert.Equal(CloseReason.Quit, s.ExpectCall<Ended>().Reason);
    }

    [Fact]
    public void Binary_frames_are_answered_with_frames()
    {
        var s = Start(binary: true);
        var greeting = s.ExpectCall<Wrote>().Bytes;
        Assert.Equal(Frame("Welcome!").Concat(Frame("What's your name?")), greeting);
        s.Connection.Receive([.. Frame("neo"), .. Frame("ECHO a\nb")]);
        var got = new List<byte>();
        while (got.Count < Frame("Hello neo!").Length + Frame("a\nb").Length) got.AddRange(s.ExpectCall<Wrote>().Bytes);
        Assert.Equal(Frame("Hello neo!").Concat(Frame("a\nb")), got);
    }

    private static byte[] Frame(string text)
    {
        var payload = Encoding.UTF8.GetBytes(text);
        return [(byte)(payload.Length >> 24), (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, .. payload];
    }
}
