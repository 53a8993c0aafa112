using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>A server with the default settings, shared by the session tests.</summary>
public sealed class DefaultServer() : ServerFixture();

/// <summary>A server whose text lines may hold at most 16 bytes, so the limit is easy to reach exactly.</summary>
public sealed class SixteenByteLineServer() : ServerFixture("actor-tcp { max-line-bytes = 16 }");

/// <summary>The text listener's session over real sockets: the dialog, every command, framing edge cases.</summary>
public sealed class SessionTests(DefaultServer server, SixteenByteLineServer small)
    : IClassFixture<DefaultServer>, IClassFixture<SixteenByteLineServer>
{
    private static readonly byte[] Replacement = [0xEF, 0xBF, 0xBD];

    private int Port => server.TextPort;

    // ---- greeting and name dialog ----

    [Fact]
    public async Task A_new_client_is_greeted_with_exactly_Welcome_then_the_name_question()
    {
        await using var client = await TestClient.ConnectAsync(Port);
        var expected = "Welcome!\nWhat's your name?\n"u8.ToArray();
        Assert.Equal(expected, await client.ReadBytesAsync(expected.Length));
    }

    [Theory]
    [InlineData("two words")]
    [InlineData("bang!")]
    [InlineData("tab\tinside")]
    [InlineData("\u0301mark_first")]
    [InlineData("abcdefghijklmnopqrstuvwxyz0123456")]
    [InlineData("emoji😀")]
    public async Task An_invalid_name_is_refused_with_a_reason_and_the_question_is_asked_again(string name)
    {
        await using var client = await Greeted();
        await client.SendAsync(name + "\n");
        var error = await client.ReadLineAsync();
        Assert.NotNull(error);
        Assert.StartsWith("ERR invalid name: ", error);
        Assert.True(error.Length > "ERR invalid name: ".Length, "the reason is empty");
        Assert.Equal("What's your name?", await client.ReadLineAsync());

        await client.SendAsync("neo\n");
        Assert.Equal("Hello neo!", await client.ReadLineAsync());
    }

    [Theory]
    [InlineData("José", "José")]
    [InlineData("Jose\u0301", "José")]
    [InlineData("张三", "张三")]
    [InlineData("a.b-c_1", "a.b-c_1")]
    [InlineData("  \tTrinity \t", "Trinity")]
    [InlineData("abcdefghijklmnopqrstuvwxyz012345", "abcdefghijklmnopqrstuvwxyz012345")]
    public async Task A_valid_name_is_trimmed_normalized_to_NFC_and_greeted(string sent, string greeted)
    {
        await using var client = await Greeted();
        await client.SendAsync(sent + "\n");
        Assert.Equal($"Hello {greeted}!", await client.ReadLineAsync());
    }

    [Fact]
    public async Task An_empty_or_blank_line_in_the_dialog_asks_the_name_again()
    {
        await using var client = await Greeted();
        await client.SendAsync("\n \t \nneo\n");
        Assert.Equal(["What's your name?", "What's your name?", "Hello neo!"], await client.ReadLinesAsync(3));
    }

    [Theory]
    [InlineData("exit")]
    [InlineData("quit")]
    [InlineData("EXIT")]
    [InlineData("Quit")]
    public async Task Exit_or_quit_in_the_dialog_says_Goodbye_and_closes(string word)
    {
        await using var client = await Greeted();
        await client.SendAsync(word + "\n");
        Assert.Equal("Goodbye!", await client.ReadLineAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task Ping_answers_PONG_and_heartbeat_answers_nothing_in_the_dialog_which_goes_on()
    {
        await using var client = await Greeted();
        await client.SendAsync("PING\nHEARTBEAT\nheartbeat\nping\nneo\n");
        Assert.Equal(["PONG", "PONG", "Hello neo!"], await client.ReadLinesAsync(3));
    }

    // ---- command mode ----

    [Theory]
    [InlineData("PING")]
    [InlineData("ping")]
    [InlineData("PiNg now please")]
    [InlineData("  \tPING")]
    public async Task Ping_in_any_case_and_with_ignored_arguments_answers_PONG(string request)
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync(request + "\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Heartbeat_and_blank_lines_in_command_mode_get_no_reply()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("HEARTBEAT\nheartbeat\n\n  \t \nECHO after\n");
        Assert.Equal("after", await client.ReadLineAsync());
    }

    [Theory]
    [InlineData("ECHO hello world", "hello world")]
    [InlineData("echo x", "x")]
    [InlineData("ECHO", "")]
    [InlineData("ECHO ", "")]
    [InlineData("ECHO\tfoo\tbar", "foo\tbar")]
    [InlineData("ECHO  two leading, one trailing ", " two leading, one trailing ")]
    [InlineData("ECHO PING", "PING")]
    [InlineData("ECHO 张三 José", "张三 José")]
    public async Task Echo_answers_everything_after_the_first_space_or_tab_unchanged(string request, string reply)
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync(request + "\n");
        Assert.Equal(reply, await client.ReadLineAsync());
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Who_lists_every_connected_name_sorted_by_UTF8_bytes_with_duplicates_twice()
    {
        var suffix = Guid.NewGuid().ToString("N")[..6];
        // Culture order would be adam, Émile, Zed, 张三; byte order puts Z first and the non-ASCII names last.
        string[] names = ["张三" + suffix, "adam" + suffix, "Zed" + suffix, "Émile" + suffix, "adam" + suffix];
        var clients = new List<TestClient>();
        try
        {
            foreach (var name in names) clients.Add(await TestClient.NamedAsync(Port, name));
            await using var asker = await TestClient.ConnectAsync(Port);
            await asker.ReadLinesAsync(2);
            await asker.SendAsync("who" + suffix + "\nWHO\n");
            Assert.Equal("Hello who" + suffix + "!", await asker.ReadLineAsync());

            var header = await asker.ReadLineAsync();
            Assert.NotNull(header);
            Assert.StartsWith("OK ", header);
            var count = int.Parse(header[3..]);
            var listed = await asker.ReadLinesAsync(count);
            await asker.SendAsync("PING\n");
            Assert.Equal("PONG", await asker.ReadLineAsync());

            var ordered = listed.OrderBy(n => Encoding.UTF8.GetBytes(n), ByteOrder.Instance).ToList();
            Assert.Equal(ordered, listed);
            Assert.Equal(
                ["Zed" + suffix, "adam" + suffix, "adam" + suffix, "who" + suffix, "Émile" + suffix, "张三" + suffix],
                listed.Where(n => n.EndsWith(suffix, StringComparison.Ordinal)).ToList());
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
    }

    [Fact]
    public async Task Stats_reports_every_documented_counter_and_counts_closes_by_reason()
    {
        await using var client = await TestClient.NamedAsync(Port);
        var before = await client.StatsAsync();
        foreach (var key in new[] { "version", "connections", "accepted", "rejected", "downloads", "bytes_in", "bytes_out", "uptime_s", "closed_quit", "closed_idle_timeout", "closed_handshake_timeout", "closed_server_full", "closed_shutdown", "closed_peer_closed" })
            Assert.True(before.ContainsKey(key), $"STATS has no {key}: {string.Join(' ', before.Keys)}");
        // version and node (a cluster address, or standalone) are the two keys that are not counts.
        foreach (var (key, value) in before.Where(p => p.Key is not ("version" or "node")))
            Assert.True(value.All(char.IsAsciiDigit) && value.Length > 0, $"{key}={value} is not a count");
        Assert.Matches(@"^\d+\.\d+\.\d+", before["version"]);
        Assert.True(long.Parse(before["connections"]) >= 1);
        Assert.True(long.Parse(before["bytes_in"]) > 0);
        Assert.True(long.Parse(before["bytes_out"]) > 0);

        var quitsBefore = long.Parse(before["closed_quit"]);
        await using (var quitter = await TestClient.NamedAsync(Port, "quitter"))
        {
            await quitter.SendAsync("QUIT\n");
            Assert.Equal("Goodbye!", await quitter.ReadLineAsync());
            Assert.True(await quitter.IsClosedByServerAsync());
        }
        var after = await client.StatsUntilAsync(s => long.Parse(s["closed_quit"]) > quitsBefore, "closed_quit counting the quit");
        Assert.Equal(quitsBefore + 1, long.Parse(after["closed_quit"]));
        Assert.True(long.Parse(after["accepted"]) > long.Parse(before["accepted"]));
    }

    [Fact]
    public async Task Help_answers_OK_n_followed_by_exactly_n_lines()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("HELP\nPING\n");
        var header = await client.ReadLineAsync();
        Assert.NotNull(header);
        Assert.Matches(@"^OK [1-9]\d*$", header);
        var lines = await client.ReadLinesAsync(int.Parse(header[3..]));
        Assert.All(lines, line => Assert.False(string.IsNullOrWhiteSpace(line)));
        foreach (var verb in new[] { "PING", "HEARTBEAT", "ECHO", "WHO", "LIST", "GET", "STATS", "HELP", "QUIT" })
            Assert.Contains(lines, line => line.Contains(verb, StringComparison.Ordinal));
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Theory]
    [InlineData("QUIT")]
    [InlineData("EXIT")]
    [InlineData("quit")]
    [InlineData("Exit now")]
    public async Task Quit_or_exit_in_command_mode_says_Goodbye_and_closes(string request)
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync(request + "\nPING\n");
        Assert.Equal("Goodbye!", await client.ReadLineAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Theory]
    [InlineData("FOO bar", "FOO")]
    [InlineData("fooBar", "fooBar")]
    [InlineData("  \tFrob\tx", "Frob")]
    [InlineData("PINGS", "PINGS")]
    [InlineData("张三 x", "张三")]
    public async Task An_unknown_command_names_the_verb_as_written_and_suggests_HELP(string request, string verb)
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync(request + "\nPING\n");
        Assert.Equal($"ERR unknown command: {verb} (try HELP)", await client.ReadLineAsync());
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Fifty_pipelined_requests_in_one_send_are_answered_in_order()
    {
        await using var client = await TestClient.ConnectAsync(Port);
        await client.ReadLinesAsync(2);
        var requests = new StringBuilder("neo\n");
        var expected = new List<string> { "Hello neo!" };
        for (var i = 0; i < 50; i++)
        {
            requests.Append(i % 5 == 0 ? "PING\n" : $"ECHO request {i}\n");
            expected.Add(i % 5 == 0 ? "PONG" : $"request {i}");
        }
        await client.SendAsync(requests.ToString());
        Assert.Equal(expected, await client.ReadLinesAsync(expected.Count));
    }

    // ---- text framing ----

    [Fact]
    public async Task A_line_of_exactly_max_line_bytes_is_served_and_one_byte_more_is_refused_and_the_session_goes_on()
    {
        await using var client = await TestClient.NamedAsync(small.TextPort);
        await client.SendAsync("ECHO 0123456789a\n"); // 16 bytes
        Assert.Equal("0123456789a", await client.ReadLineAsync());
        await client.SendAsync("ECHO 0123456789ab\nPING\n"); // 17 bytes
        Assert.Equal("ERR line too long (max 16 bytes)", await client.ReadLineAsync());
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task The_line_limit_does_not_count_the_CR_before_the_LF()
    {
        await using var client = await TestClient.NamedAsync(small.TextPort);
        await client.SendAsync("ECHO 0123456789a\r\n");
        Assert.Equal("0123456789a", await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_too_long_line_is_answered_as_soon_as_the_limit_is_passed_and_its_rest_is_discarded()
    {
        await using var client = await TestClient.NamedAsync(small.TextPort);
        // No LF yet: the error must come without waiting for the end of the line.
        await client.SendAsync("ECHO " + new string('x', 40));
        Assert.Equal("ERR line too long (max 16 bytes)", await client.ReadLineAsync());
        await client.SendAsync(new string('y', 5000) + "ECHO leaked\nPING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_too_long_line_in_the_dialog_is_refused_and_the_name_is_asked_again()
    {
        await using var client = await TestClient.ConnectAsync(small.TextPort);
        await client.ReadLinesAsync(2);
        await client.SendAsync(new string('n', 17) + "\nneo\n");
        Assert.Equal(
            ["ERR line too long (max 16 bytes)", "What's your name?", "Hello neo!"],
            await client.ReadLinesAsync(3));
    }

    [Fact]
    public async Task CRLF_line_ends_from_telnet_or_nc_C_are_accepted_and_the_CR_is_not_data()
    {
        await using var client = await TestClient.ConnectAsync(Port);
        await client.ReadLinesAsync(2);
        await client.SendAsync("neo\r\nPING\r\nECHO hi\r\nECHO a\rb\n");
        Assert.Equal(["Hello neo!", "PONG", "hi", "a\rb"], await client.ReadLinesAsync(4));
    }

    [Fact]
    public async Task CR_NUL_ends_a_line_and_an_LF_right_after_it_is_dropped()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("ECHO one\r\0ECHO two\r\0\nPING\n");
        Assert.Equal(["one", "two", "PONG"], await client.ReadLinesAsync(3));
    }

    [Fact]
    public async Task Backspace_and_DEL_erase_the_previous_character_as_a_character_mode_telnet_expects()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("PINX\bG\nECHO abcd\u007f\u007fZ\n");
        Assert.Equal(["PONG", "abZ"], await client.ReadLinesAsync(2));
    }

    [Fact]
    public async Task Invalid_UTF8_is_echoed_as_the_replacement_character()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync([.. "ECHO a"u8, 0xFF, .. "b\n"u8]);
        byte[] expected = [(byte)'a', .. Replacement, (byte)'b'];
        Assert.Equal(expected, await client.ReadLineBytesAsync());
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Invalid_UTF8_as_a_name_is_an_invalid_name_not_a_crash()
    {
        await using var client = await Greeted();
        await client.SendAsync([0xC3, 0x28, .. "x\n"u8]);
        Assert.StartsWith("ERR invalid name: ", await client.ReadLineAsync());
        Assert.Equal("What's your name?", await client.ReadLineAsync());
    }

    [Fact]
    public async Task After_a_half_close_every_reply_is_sent_then_the_server_closes()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("PING\nECHO one\nECHO two\nECHO last without LF");
        client.HalfClose();
        Assert.Equal("PONG\none\ntwo\nlast without LF\n", Encoding.UTF8.GetString(await client.ReadToEndAsync()));
    }

    [Fact]
    public async Task A_telnet_Ctrl_C_is_answered_with_WONT_TIMING_MARK_and_the_session_goes_on()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync([255, 244, 255, 253, 6]);
        Assert.Equal(new byte[] { 255, 252, 6 }, await client.ReadBytesAsync(3));
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task The_timing_mark_answer_comes_in_request_order()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync([.. "ECHO before\n"u8, 255, 244, 255, 253, 6, .. "ECHO after\n"u8]);
        var expected = "before\n"u8.ToArray().Concat(new byte[] { 255, 252, 6 }).Concat("after\n"u8.ToArray()).ToArray();
        Assert.Equal(expected, await client.ReadBytesAsync(expected.Length));
    }

    [Fact]
    public async Task Telnet_negotiation_inside_a_line_is_removed_and_IAC_IAC_is_a_literal_255()
    {
        await using var client = await TestClient.NamedAsync(Port);
        // IAC WILL NAWS and IAC SB NAWS 0 80 0 24 IAC SE in the middle of PING.
        await client.SendAsync([.. "PI"u8, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240, .. "NG\n"u8]);
        Assert.Equal("PONG", await client.ReadLineAsync());
        // A literal 255 is not UTF-8, so it comes back as U+FFFD.
        await client.SendAsync([.. "ECHO x"u8, 255, 255, .. "y\n"u8]);
        byte[] expected = [(byte)'x', .. Replacement, (byte)'y'];
        Assert.Equal(expected, await client.ReadLineBytesAsync());
    }

    [Fact]
    public async Task Telnet_commands_split_across_segments_are_still_removed_and_answered()
    {
        await using var client = await TestClient.NamedAsync(Port);
        byte[][] pieces = [[.. "ECHO a"u8, 255], [244, 255], [253], [6, .. "b\n"u8], [.. "PI"u8, 255], [251], [1, .. "NG\n"u8]];
        foreach (var piece in pieces)
        {
            await client.SendAsync(piece);
            // Pacing, not waiting for the server: separate segments make the server see each IAC sequence in pieces.
            await Task.Delay(15);
        }
        // The timing mark is answered when it is read, before the line it sits in is finished.
        byte[] expected = [255, 252, 6, .. "ab\nPONG\n"u8];
        Assert.Equal(expected, await client.ReadBytesAsync(expected.Length));
    }

    // ---- settings that change the text listener ----

    [Fact]
    public async Task Reply_line_ending_crlf_ends_every_reply_line_with_CR_LF()
    {
        await using var crlf = await ServerProcess.StartAsync("actor-tcp { reply-line-ending = crlf }");
        await using var client = await TestClient.ConnectAsync(crlf.TextPort);
        var expected = "Welcome!\r\nWhat's your name?\r\nHello neo!\r\nPONG\r\nhi\r\n"u8.ToArray();
        await client.SendAsync("neo\nPING\nECHO hi\n");
        Assert.Equal(expected, await client.ReadBytesAsync(expected.Length));
    }

    [Fact]
    public async Task Text_encoding_gbk_round_trips_a_Chinese_name_and_echo_both_ways()
    {
        Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);
        var gbk = Encoding.GetEncoding("gbk");
        await using var legacy = await ServerProcess.StartAsync("actor-tcp { text-encoding = gbk }");
        await using var client = await TestClient.ConnectAsync(legacy.TextPort);
        Assert.Equal(["Welcome!", "What's your name?"], await client.ReadLinesAsync(2));

        await client.SendAsync(gbk.GetBytes("张三\nECHO 你好，世界\n"));
        Assert.Equal(gbk.GetBytes("Hello 张三!"), await client.ReadLineBytesAsync());
        Assert.Equal(gbk.GetBytes("你好，世界"), await client.ReadLineBytesAsync());

        await client.SendAsync("WHO\n");
        Assert.Equal("OK 1", await client.ReadLineAsync());
        Assert.Equal(gbk.GetBytes("张三"), await client.ReadLineBytesAsync());

        // The binary listener stays UTF-8 whatever text-encoding says.
        await using var binary = await TestClient.ConnectAsync(legacy.BinaryPort);
        Assert.Equal("Welcome!", await binary.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await binary.ReadFrameTextAsync());
        await binary.SendFrameAsync("李四");
        Assert.Equal("Hello 李四!", await binary.ReadFrameTextAsync());
    }

    private async Task<TestClient> Greeted()
    {
        var client = await TestClient.ConnectAsync(Port);
        Assert.Equal(["Welcome!", "What's your name?"], await client.ReadLinesAsync(2));
        return client;
    }

    private sealed class ByteOrder : IComparer<byte[]>
    {
        public static readonly ByteOrder Instance = new();

        public int Compare(byte[]? x, byte[]? y) => x.AsSpan().SequenceCompareTo(y);
    }
}
