using Xunit;
using static ActorTcp.Protocol.Telnet;

namespace ActorTcp.Protocol.Tests;

public sealed class LineDecoderTooLongTests : LineDecoderTestBase
{
    [Fact]
    public void A_line_of_exactly_max_bytes_is_a_request() =>
        Assert.Equal(Requests("abcd", "wxyz"), Decode(Wire.Of("abcd\nwxyz\r\n"), max: 4));

    [Fact]
    public void A_line_of_max_plus_one_bytes_is_too_long_and_discarded_through_its_lf() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of("abcde\nok\n"), max: 4));

    [Fact]
    public void Too_long_is_reported_the_moment_the_byte_past_the_limit_arrives()
    {
        using var decoder = new LineDecoder(4, Utf8);
        Assert.Equal(DecodeEvent.TooLong, decoder.Decode("abcdefgh"u8, out int consumed, out _));
        Assert.Equal(5, consumed);
        Assert.Equal(0, decoder.BufferedBytes);
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode("fgh"u8, out consumed, out _));
        Assert.Equal(3, consumed);
    }

    [Fact]
    public void Too_long_is_reported_once_however_long_the_line_goes_on()
    {
        using var decoder = new LineDecoder(2, Utf8);
        byte[] chunk = Wire.Of(new string('x', 1000));
        var chunks = Enumerable.Repeat(chunk, 50).Append(Wire.Of("\nok\n"));
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Drive.Chunks(decoder, chunks, maxBuffered: 2));
    }

    [Fact]
    public void Max_counts_data_bytes_after_telnet_removal_and_erasure_without_the_line_end() =>
        Assert.Equal(
            Requests("abc", "xyz"),
            Decode(Wire.Of("ab", Iac, Nop, Iac, Sb, 1, 2, Iac, Se, "c\r\n", "xyq\bz\r\0"), max: 3));

    [Fact]
    public void A_byte_past_the_limit_is_too_long_even_if_an_erase_would_follow() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of("abcd\b\nok\n"), max: 3));

    [Fact]
    public void Iac_iac_counts_as_one_byte() =>
        Assert.Equal(Requests("ab\u00FF"), Decode(Wire.Of("ab", Iac, Iac, "\n"), max: 3));

    [Fact]
    public void Iac_with_a_byte_below_240_counts_as_two_bytes() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of("ab", Iac, "x\nok\n"), max: 3));

    [Fact]
    public void Iac_past_the_limit_followed_by_lf_is_too_long_and_that_lf_ends_the_discarded_line() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of("ab", Iac, "\nok\n"), max: 2));

    [Fact]
    public void A_cr_that_turns_out_to_be_data_counts_toward_the_limit() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of("abc\rx\nok\n"), max: 3));

    [Fact]
    public void A_cr_past_the_limit_followed_by_cr_nul_resyncs_on_that_cr_nul() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of("abc\r\r\0\nok\n"), max: 3));

    [Fact]
    public void A_line_at_the_limit_ended_by_cr_lf_or_cr_nul_is_fine() =>
        Assert.Equal(Requests("abc", "def"), Decode(Wire.Of("abc\r\ndef\r\0"), max: 3));

    [Fact]
    public void A_too_long_line_ended_by_cr_nul_resyncs_and_drops_the_lf_after_it() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of("abcd\r\0\nok\n"), max: 2));

    [Fact]
    public void A_lone_cr_inside_a_discarded_line_does_not_end_it() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of("abcd\rxy\nok\n"), max: 2));

    [Fact]
    public void Finish_while_a_too_long_line_is_discarded_returns_nothing() =>
        Assert.Equal([Decoded.TooLong], Decode(Wire.Of("abcdef"), max: 3));

    [Fact]
    public void A_max_of_zero_accepts_only_empty_lines() =>
        Assert.Equal([Decoded.Request(""), Decoded.TooLong, Decoded.Request("")], Decode(Wire.Of("\nx\n\n"), max: 0));

    [Fact]
    public void Memory_held_stays_within_the_maximum_whatever_is_fed()
    {
        using var decoder = new LineDecoder(4096, Utf8);
        var random = new Random(7);
        var chunk = new byte[65536];
        for (int round = 0; round < 64; round++)
        {
            random.NextBytes(chunk);
            ReadOnlySpan<byte> rest = chunk;
            while (!rest.IsEmpty)
            {
                decoder.Decode(rest, out int consumed, out _);
                Assert.InRange(decoder.BufferedBytes, 0, 4096);
                rest = rest[consumed..];
            }
        }
    }
}
