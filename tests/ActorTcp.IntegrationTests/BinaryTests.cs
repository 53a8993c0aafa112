using System.Buffers.Binary;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>A server whose binary frames may hold at most 1000 bytes, so a frame can exceed it cheaply.</summary>
public sealed class SmallFrameServer() : ServerFixture("actor-tcp { max-frame-bytes = 1000 }");

/// <summary>The length-prefixed listener: the same session as the text listener, one frame per line.</summary>
public sealed class BinaryTests(SmallFrameServer server) : IClassFixture<SmallFrameServer>
{
    private const int MaxFrame = 1000;

    private int Port => server.BinaryPort;

    [Fact]
    public async Task A_new_binary_client_is_greeted_with_two_frames()
    {
        await using var client = await TestClient.ConnectAsync(Port);
        var expected = Frames("Welcome!", "What's your name?");
        Assert.Equal(expected, await client.ReadBytesAsync(expected.Length));
    }

    [Fact]
    public async Task A_name_frame_is_greeted_and_echo_keeps_a_LF_inside_its_payload()
    {
        await using var client = await Named("neo");
        await client.SendFrameAsync("ECHO first\nsecond\n");
        Assert.Equal("first\nsecond\n", await client.ReadFrameTextAsync());
        await client.SendFrameAsync("PING");
        Assert.Equal("PONG", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task Binary_payloads_are_UTF8_names_and_echoes()
    {
        await using var client = await Named("张三");
        await client.SendFrameAsync("ECHO José 你好");
        Assert.Equal("José 你好", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task A_zero_length_frame_is_a_blank_line_in_the_dialog_and_in_command_mode()
    {
        await using var client = await Greeted();
        await client.SendAsync(TestClient.Frame([]));
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        await client.SendAsync([.. Frames("neo"), .. TestClient.Frame([]), .. Frames("PING")]);
        Assert.Equal("Hello neo!", await client.ReadFrameTextAsync());
        Assert.Equal("PONG", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task A_frame_of_exactly_max_frame_bytes_is_served_and_one_byte_more_is_refused()
    {
        await using var client = await Named("neo");
        var fits = "ECHO " + new string('a', MaxFrame - 5);
        await client.SendFrameAsync(fits);
        Assert.Equal(new string('a', MaxFrame - 5), await client.ReadFrameTextAsync());
        await client.SendFrameAsync(fits + "b");
        Assert.Equal($"ERR frame too long (max {MaxFrame} bytes)", await client.ReadFrameTextAsync());
        await client.SendFrameAsync("PING");
        Assert.Equal("PONG", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task A_frame_over_max_frame_bytes_is_refused_its_payload_skipped_and_the_session_goes_on()
    {
        await using var client = await Named("neo");
        // The oversized payload is made of valid request frames: none of them may be served.
        var payload = new MemoryStream();
        while (payload.Length < 100_000) payload.Write(Frames("ECHO leaked"));
        await client.SendAsync([.. TestClient.Frame(payload.ToArray()), .. Frames("ECHO after")]);
        Assert.Equal($"ERR frame too long (max {MaxFrame} bytes)", await client.ReadFrameTextAsync());
        Assert.Equal("after", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task A_frame_too_long_in_the_dialog_is_refused_and_the_name_is_asked_again()
    {
        await using var client = await Greeted();
        await client.SendAsync([.. TestClient.Frame(new byte[MaxFrame + 1]), .. Frames("neo")]);
        Assert.Equal($"ERR frame too long (max {MaxFrame} bytes)", await client.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        Assert.Equal("Hello neo!", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task A_frame_whose_header_and_payload_arrive_byte_by_byte_is_served()
    {
        await using var client = await Named("neo");
        foreach (var b in Frames("ECHO split"))
        {
            await client.SendAsync([b]);
            // Pacing, not waiting for the server: separate segments make the server see the header in pieces.
            await Task.Delay(15);
        }
        Assert.Equal("split", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task Pipelined_frames_in_one_send_are_answered_in_order_one_frame_per_reply_line()
    {
        await using var client = await Greeted();
        var requests = new List<string> { "neo" };
        var expected = new List<string> { "Hello neo!" };
        for (var i = 0; i < 30; i++)
        {
            requests.Add(i % 3 == 0 ? "PING" : $"ECHO frame {i}");
            expected.Add(i % 3 == 0 ? "PONG" : $"frame {i}");
        }
        requests.Add("HELP");
        await client.SendAsync(Frames([.. requests]));
        foreach (var line in expected) Assert.Equal(line, await client.ReadFrameTextAsync());
        var help = await client.ReadFrameTextAsync();
        Assert.NotNull(help);
        Assert.Matches(@"^OK [1-9]\d*$", help);
        for (var i = int.Parse(help[3..]); i > 0; i--) Assert.False(string.IsNullOrEmpty(await client.ReadFrameTextAsync()));
    }

    [Fact]
    public async Task An_unknown_command_over_binary_gets_the_same_error_text()
    {
        await using var client = await Named("neo");
        await client.SendFrameAsync("Frob x");
        Assert.Equal("ERR unknown command: Frob (try HELP)", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task Quit_over_binary_says_Goodbye_in_a_frame_and_closes()
    {
        await using var client = await Named("neo");
        await client.SendFrameAsync("quit");
        Assert.Equal("Goodbye!", await client.ReadFrameTextAsync());
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task After_a_half_close_replies_are_sent_and_a_partial_last_frame_is_dropped()
    {
        await using var client = await Named("neo");
        var partial = new byte[4 + 3];
        BinaryPrimitives.WriteUInt32BigEndian(partial, 10);
        "ECH"u8.CopyTo(partial.AsSpan(4));
        await client.SendAsync([.. Frames("PING", "ECHO last"), .. partial]);
        client.HalfClose();
        Assert.Equal(Frames("PONG", "last"), await client.ReadToEndAsync());
    }

    private async Task<TestClient> Greeted()
    {
        var client = await TestClient.ConnectAsync(Port);
        Assert.Equal("Welcome!", await client.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        return client;
    }

    private async Task<TestClient> Named(string name)
    {
        var client = await Greeted();
        await client.SendFrameAsync(name);
        Assert.Equal($"Hello {name}!", await client.ReadFrameTextAsync());
        return client;
    }

    private static byte[] Frames(params string[] payloads) =>
        payloads.SelectMany(p => TestClient.Frame(Encoding.UTF8.GetBytes(p))).ToArray();
}
