using System.Security.Cryptography;
using System.Text;
using ActorTcp.LoadTest.Clients;
using ActorTcp.Protocol;
using ActorTcp.Transport;

namespace ActorTcp.LoadTest.Tests;

public sealed class ReplyCheckerTests
{
    private static readonly byte[] Payload = "abcdefghij"u8.ToArray();

    private static ReplyChecker Checker(bool binary = false, int maxReplyBytes = 1024, byte[]? file = null, string? sha256 = null) =>
        new(ReplyReader.For(binary, maxReplyBytes), Encoding.UTF8.GetBytes(Replies.Hello("lt0")), Payload, file, sha256);

    // Feeds the bytes as the actor does, with one expectation for every check; a Met moves on to the next one.
    private static List<Check> Feed(ReplyChecker checker, byte[] wire, params Expect[] awaiting)
    {
        var checks = new List<Check>();
        var queue = new Queue<Expect>(awaiting);
        ReadOnlySpan<byte> data = wire;
        while (checker.Next(ref data, queue.Count > 0 ? queue.Peek() : null) is { } check)
        {
            checks.Add(check);
            if (check.Verdict == Verdict.Met)
            {
                queue.Dequeue();
            }

            if (check.Verdict == Verdict.Wrong)
            {
                break;
            }
        }

        return checks;
    }

    private static byte[] Frame(string line) => ServerFrames.Frame(line);

    private static byte[] Frame(byte[] payload) => ServerFrames.Frame(payload);

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Fact]
    public void Greeting_name_and_correct_echo_are_all_met()
    {
        var checks = Feed(Checker(), "Welcome!\nWhat's your name?\r\nHello lt0!\nabcdefghij\n"u8.ToArray(),
            Expect.Welcome, Expect.AskName, Expect.Hello, Expect.Echo);
        Assert.Equal([Verdict.Met, Verdict.Met, Verdict.Met, Verdict.Met], checks.Select(c => c.Verdict));
    }

    [Fact]
    public void Correct_echo_over_binary_framing_is_met() =>
        Assert.Equal([Check.Met], Feed(Checker(binary: true), Frame("abcdefghij"), Expect.Echo));

    [Fact]
    public void Wrong_echo_payload_is_a_wrong_reply_that_shows_what_came()
    {
        var check = Assert.Single(Feed(Checker(), "abcdefghiX\n"u8.ToArray(), Expect.Echo));
        Assert.Equal(Check.Wrong("expected the echoed payload, got 'abcdefghiX'"), check);
    }

    [Fact]
    public void Reply_with_no_request_waiting_is_a_wrong_reply() =>
        Assert.Equal(Check.Wrong("expected no reply, got 'PONG'"), Assert.Single(Feed(Checker(), "PONG\n"u8.ToArray())));

    [Fact]
    public void Unexpected_err_line_waits_and_then_counts_as_a_wrong_reply_if_the_server_goes_on()
    {
        var checker = Checker();
        Assert.Equal([Verdict.ErrLine, Verdict.Ignored], Feed(checker, "ERR unknown command: X (try HELP)\nPONG\n"u8.ToArray(), Expect.Echo).Select(c => c.Verdict));
        Assert.True(checker.ErrPending);
        Assert.Equal("expected the echoed payload, got 'ERR unknown command: X (try HELP)'", checker.ErrNotFollowedByClose());
        Assert.False(checker.ErrPending);
    }

    [Fact]
    public void Err_line_followed_by_the_servers_close_is_counted_as_that_close()
    {
        var checker = Checker();
        Assert.Equal(Verdict.ErrLine, Assert.Single(Feed(checker, "ERR server full\n"u8.ToArray(), Expect.Welcome)).Verdict);
        Assert.Equal("closed by server: ERR server full", checker.UnexpectedClose(null, Expect.Welcome));
    }

    [Fact]
    public void Close_without_an_err_line_names_what_the_client_was_waiting_for()
    {
        var checker = Checker();
        Assert.Equal("closed by server (no ERR line) awaiting PONG", checker.UnexpectedClose(null, Expect.Pong));
        Assert.Equal("closed by server (no ERR line)", checker.UnexpectedClose(null, null));
        Assert.Equal("reset", checker.UnexpectedClose(CloseKind.Reset, Expect.Pong));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Whole_get_is_met_once_all_announced_bytes_arrived(bool binary)
    {
        var checker = Checker(binary);
        checker.ExpectFile();
        byte[] wire = binary ? Concat(Frame("OK 5"), Frame("he"), Frame("llo"), Frame("PONG")) : "OK 5\nhelloPONG\n"u8.ToArray();
        var checks = Feed(checker, wire, Expect.GetHeader, Expect.Pong);
        Verdict[] expected = binary
            ? [Verdict.InProgress, Verdict.InProgress, Verdict.Met, Verdict.Met]
            : [Verdict.InProgress, Verdict.Met, Verdict.Met];
        Assert.Equal(expected, checks.Select(c => c.Verdict));
        Assert.Equal(5, checks[^2].FileBytes);
    }

    [Fact]
    public void Empty_file_is_met_with_its_ok_0_line()
    {
        var checker = Checker(binary: true);
        checker.ExpectFile();
        Assert.Equal([Check.Met, Check.Met], Feed(checker, Concat(Frame("OK 0"), Frame("PONG")), Expect.GetHeader, Expect.Pong));
    }

    [Fact]
    public void Short_get_cut_by_the_servers_close_is_counted_as_a_close_awaiting_the_get_reply()
    {
        var checker = Checker(binary: true);
        checker.ExpectFile();
        Assert.Equal([Verdict.InProgress, Verdict.InProgress], Feed(checker, Concat(Frame("OK 10"), Frame("abc")), Expect.GetHeader).Select(c => c.Verdict));
        Assert.Equal(10, checker.DownloadLength);
        Assert.Equal("closed by server (no ERR line) awaiting GET reply", checker.UnexpectedClose(null, Expect.GetHeader));
    }

    [Fact]
    public void Data_frames_past_the_announced_size_are_a_wrong_reply()
    {
        var checker = Checker(binary: true);
        checker.ExpectFile();
        var checks = Feed(checker, Concat(Frame("OK 2"), Frame("abc")), Expect.GetHeader);
        Assert.Equal(Verdict.Wrong, checks[^1].Verdict);
        Assert.Equal("data frame of 3 bytes with 2 file bytes to come", checks[^1].Detail);
    }

    [Fact]
    public void Get_answered_by_something_other_than_ok_n_is_a_wrong_reply() =>
        Assert.Equal(Check.Wrong("expected OK <n>, got 'PONG'"), Assert.Single(Feed(Checker(), "PONG\n"u8.ToArray(), Expect.GetHeader)));

    [Fact]
    public void Get_whose_size_differs_from_the_local_file_is_a_wrong_reply()
    {
        var checker = Checker(file: "hello"u8.ToArray());
        checker.ExpectFile();
        Assert.Equal(Check.Wrong("GET: expected OK 5, got OK 4"), Assert.Single(Feed(checker, "OK 4\nhell"u8.ToArray(), Expect.GetHeader)));
    }

    [Fact]
    public void Get_whose_bytes_differ_from_the_local_file_is_a_wrong_reply()
    {
        var checker = Checker(file: "hello"u8.ToArray());
        checker.ExpectFile();
        Assert.Equal(Check.Wrong("GET: file bytes differ from --file-local near offset 0"), Feed(checker, "OK 5\njello"u8.ToArray(), Expect.GetHeader)[^1]);
    }

    [Fact]
    public void Get_is_checked_against_the_expected_sha256()
    {
        string sha = Convert.ToHexStringLower(SHA256.HashData("hello"u8));
        var good = Checker(sha256: sha);
        good.ExpectFile();
        Assert.Equal(Verdict.Met, Feed(good, "OK 5\nhello"u8.ToArray(), Expect.GetHeader)[^1].Verdict);

        var bad = Checker(sha256: sha);
        bad.ExpectFile();
        Assert.Equal(Check.Wrong("GET: SHA-256 of the file differs from --file-sha256"), Feed(bad, "OK 5\njello"u8.ToArray(), Expect.GetHeader)[^1]);
    }

    [Fact]
    public void Runaway_reply_line_is_a_wrong_reply_naming_the_limit() =>
        Assert.Equal(Check.Wrong("reply line longer than 16 bytes"), Assert.Single(Feed(Checker(maxReplyBytes: 16), new byte[40], Expect.Echo)));

    [Fact]
    public void Oversized_reply_frame_is_a_wrong_reply_as_soon_as_its_header_arrives() =>
        Assert.Equal(Check.Wrong("reply frame of 100000 bytes (max 16)"), Assert.Single(Feed(Checker(binary: true, maxReplyBytes: 16), [0, 1, 0x86, 0xA0], Expect.Echo)));

    [Fact]
    public void Reset_forgets_a_pending_err_and_a_framing_error_for_the_next_connection()
    {
        var checker = Checker(binary: true, maxReplyBytes: 16);
        Assert.Equal([Verdict.ErrLine, Verdict.Wrong], Feed(checker, Concat(Frame("ERR x"), [0, 1, 0x86, 0xA0]), Expect.Echo).Select(c => c.Verdict));
        checker.Reset();
        Assert.False(checker.ErrPending);
        Assert.Equal([Check.Met], Feed(checker, Frame("PONG"), Expect.Pong));
    }
}
