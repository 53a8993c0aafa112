using System.Runtime.CompilerServices;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class LineDecoderLineEndTests : LineDecoderTestBase
{
    [Fact]
    public void Lf_ends_a_line_and_is_not_part_of_it() =>
        Assert.Equal(Requests("PING", "WHO"), Decode("PING\nWHO\n"));

    [Fact]
    public void Cr_right_before_lf_is_dropped() =>
        Assert.Equal(Requests("PING", "WHO"), Decode("PING\r\nWHO\r\n"));

    [Fact]
    public void Cr_nul_ends_a_line_and_the_following_lf_is_dropped() =>
        Assert.Equal(Requests("PING", "WHO"), Decode("PING\r\0\nWHO\r\0\n"));

    [Fact]
    public void Cr_nul_without_a_following_lf_ends_a_line_and_the_next_byte_starts_the_next_one() =>
        Assert.Equal(Requests("PING", "WHO"), Decode("PING\r\0WHO\r\0"));

    [Fact]
    public void Only_one_lf_after_cr_nul_is_dropped_a_second_one_is_an_empty_line() =>
        Assert.Equal(Requests("a", ""), Decode("a\r\0\n\n"));

    [Fact]
    public void Lone_cr_followed_by_data_is_data() =>
        Assert.Equal(Requests("a\rb"), Decode("a\rb\n"));

    [Fact]
    public void Cr_cr_lf_keeps_the_first_cr_as_data_and_ends_the_line() =>
        Assert.Equal(Requests("a\r"), Decode("a\r\r\n"));

    [Fact]
    public void Cr_cr_nul_keeps_the_first_cr_as_data_and_ends_the_line() =>
        Assert.Equal(Requests("a\r", "b"), Decode("a\r\r\0b\n"));

    [Fact]
    public void Nul_that_does_not_follow_a_cr_is_data() =>
        Assert.Equal(Requests("a\0b"), Decode("a\0b\n"));

    [Fact]
    public void Empty_lines_are_requests_with_an_empty_span() =>
        Assert.Equal(Requests("", "", "", "x"), Decode("\n\r\n\r\0x\n"));

    [Fact]
    public void Cr_at_the_end_of_a_span_waits_for_the_lf_of_the_next_span()
    {
        using var decoder = new LineDecoder(4096, Utf8);
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode("ab\r"u8, out int consumed, out _));
        Assert.Equal(3, consumed);
        Assert.Equal(DecodeEvent.Request, decoder.Decode("\ncd\n"u8, out consumed, out ReadOnlySpan<byte> request));
        Assert.Equal("ab", Wire.Latin1(request));
        Assert.Equal(1, consumed);
    }

    [Fact]
    public void Cr_at_the_end_of_a_span_becomes_data_when_the_next_span_starts_with_data() =>
        Assert.Equal(Requests("ab\rx"), Drive.Chunks(new LineDecoder(4096, Utf8), [Wire.Of("ab\r"), Wire.Of("x\n")]));

    [Fact]
    public void Cr_nul_split_from_its_lf_still_drops_the_lf() =>
        Assert.Equal(
            Requests("ab", "X"),
            Drive.Chunks(new LineDecoder(4096, Utf8), [Wire.Of("ab\r"), Wire.Of("\0"), Wire.Of("\nX\n")]));

    [Fact]
    public void Several_lines_in_one_span_come_out_one_per_call_with_what_each_consumed()
    {
        using var decoder = new LineDecoder(4096, Utf8);
        ReadOnlySpan<byte> input = "ab\r\ncde\n\nf"u8;
        Assert.Equal(DecodeEvent.Request, decoder.Decode(input, out int consumed, out ReadOnlySpan<byte> request));
        Assert.Equal(("ab", 4), (Wire.Latin1(request), consumed));
        input = input[consumed..];
        Assert.Equal(DecodeEvent.Request, decoder.Decode(input, out consumed, out request));
        Assert.Equal(("cde", 4), (Wire.Latin1(request), consumed));
        input = input[consumed..];
        Assert.Equal(DecodeEvent.Request, decoder.Decode(input, out consumed, out request));
        Assert.Equal(("", 1), (Wire.Latin1(request), consumed));
        input = input[consumed..];
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode(input, out consumed, out _));
        Assert.Equal(1, consumed);
        Assert.Equal(1, decoder.BufferedBytes);
    }

    [Theory]
    [InlineData("GET a.txt\n")]
    [InlineData("GET a.txt\r\n")]
    public void A_whole_line_inside_one_span_is_returned_as_a_slice_of_it_without_a_copy(string line)
    {
        using var decoder = new LineDecoder(4096, Utf8);
        byte[] input = Wire.Of(line);
        Assert.Equal(DecodeEvent.Request, decoder.Decode(input, out int consumed, out ReadOnlySpan<byte> request));
        Assert.Equal(input.Length, consumed);
        Assert.True(Unsafe.AreSame(ref input[0], ref Unsafe.AsRef(in request[0])));
        Assert.Equal(0, decoder.BufferedBytes);
    }

    [Fact]
    public void A_partial_line_is_held_until_its_lf_arrives()
    {
        using var decoder = new LineDecoder(4096, Utf8);
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode("ECHO he"u8, out _, out _));
        Assert.Equal(7, decoder.BufferedBytes);
        Assert.Equal(DecodeEvent.Request, decoder.Decode("llo\nnext"u8, out int consumed, out ReadOnlySpan<byte> request));
        Assert.Equal("ECHO hello", Wire.Latin1(request));
        Assert.Equal(4, consumed);
    }

    [Fact]
    public void An_empty_span_needs_more_and_consumes_nothing()
    {
        using var decoder = new LineDecoder(4096, Utf8);
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode([], out int consumed, out _));
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void Finish_returns_the_last_line_that_had_no_terminator() =>
        Assert.Equal(Requests("PING", "QUIT"), Decode("PING\nQUIT"));

    [Fact]
    public void Finish_after_a_complete_line_has_nothing_to_return() =>
        Assert.Equal(Requests("PING"), Decode("PING\n"));

    [Fact]
    public void Finish_drops_a_pending_cr_so_a_line_ended_by_cr_and_close_is_still_the_line() =>
        Assert.Equal(Requests("PING"), Decode("PING\r"));

    [Fact]
    public void Finish_with_only_a_pending_cr_returns_nothing() =>
        Assert.Empty(Decode("\r"));

    [Fact]
    public void Finish_applies_erasure_to_the_last_line() =>
        Assert.Equal(Requests("ab"), Decode("abc\b"));

    [Fact]
    public void Finish_with_a_last_line_erased_to_nothing_returns_nothing() =>
        Assert.Empty(Decode("ab\b\b"));

    [Fact]
    public void Finish_drops_an_unfinished_telnet_command() =>
        Assert.Equal(Requests("ab"), Decode("ab", Telnet.Iac));

    [Fact]
    public void Finish_resets_the_decoder_for_a_fresh_stream()
    {
        using var decoder = new LineDecoder(4096, Utf8);
        decoder.Decode(Wire.Of("ab\r", Telnet.Iac, Telnet.Sb), out _, out _);
        Assert.Equal(DecodeEvent.Request, decoder.Finish(out ReadOnlySpan<byte> last));
        Assert.Equal("ab", Wire.Latin1(last));
        Assert.Equal(DecodeEvent.NeedMore, decoder.Finish(out _));
        Assert.Equal(0, decoder.BufferedBytes);
        Assert.Equal(Requests("x"), Drive.Whole(decoder, Wire.Of("x\n")));
    }

    [Fact]
    public void Dispose_returns_the_buffer_and_later_use_throws()
    {
        var decoder = new LineDecoder(4096, Utf8);
        decoder.Decode("partial"u8, out _, out _);
        decoder.Dispose();
        Assert.Equal(0, decoder.BufferedBytes);
        Assert.Throws<ObjectDisposedException>(() => decoder.Decode("x\n"u8, out _, out _));
        decoder.Dispose();
    }
}
