using System.Runtime.CompilerServices;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class LengthPrefixDecoderTests
{
    private static List<Decoded> Decode(byte[] bytes, int max = 65536, bool finish = true)
    {
        using var whole = new LengthPrefixDecoder(max);
        using var trickled = new LengthPrefixDecoder(max);
        List<Decoded> events = Drive.Whole(whole, bytes, finish, maxBuffered: max + 4);
        Assert.Equal(events, Drive.ByteByByte(trickled, bytes, finish, maxBuffered: max + 4));
        return events;
    }

    [Fact]
    public void A_frame_is_a_big_endian_length_then_that_many_payload_bytes() =>
        Assert.Equal([Decoded.Request("PING"), Decoded.Request("WHO")], Decode(Wire.Of(0, 0, 0, 4, "PING", 0, 0, 0, 3, "WHO")));

    [Fact]
    public void A_whole_frame_inside_one_span_is_returned_as_a_slice_of_it_without_a_copy()
    {
        using var decoder = new LengthPrefixDecoder(65536);
        byte[] input = Wire.Frame("GET a.txt");
        Assert.Equal(DecodeEvent.Request, decoder.Decode(input, out int consumed, out ReadOnlySpan<byte> request));
        Assert.Equal(input.Length, consumed);
        Assert.True(Unsafe.AreSame(ref input[4], ref Unsafe.AsRef(in request[0])));
        Assert.Equal(0, decoder.BufferedBytes);
    }

    [Fact]
    public void A_zero_length_frame_is_an_empty_request() =>
        Assert.Equal([Decoded.Request(""), Decoded.Request("x")], Decode(Wire.Of(0, 0, 0, 0, 0, 0, 0, 1, "x")));

    [Fact]
    public void Lf_cr_and_telnet_bytes_inside_a_payload_are_data() =>
        Assert.Equal([Decoded.Request("a\nb\r\0\u00FF\u00FD\u0006\b")], Decode(Wire.Frame(Wire.Of("a\nb\r\0", 255, 253, 6, 8))));

    [Fact]
    public void A_header_split_across_spans_is_reassembled()
    {
        using var decoder = new LengthPrefixDecoder(65536);
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode(Wire.Of(0, 0), out _, out _));
        Assert.Equal(2, decoder.BufferedBytes);
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode(Wire.Of(0), out _, out _));
        byte[] input = Wire.Of(2, "ab", 0);
        Assert.Equal(DecodeEvent.Request, decoder.Decode(input, out int consumed, out ReadOnlySpan<byte> request));
        Assert.Equal(("ab", 3), (Wire.Latin1(request), consumed));
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode(input.AsSpan(consumed), out _, out _));
        Assert.Equal(1, decoder.BufferedBytes);
    }

    [Fact]
    public void A_payload_split_across_spans_is_held_then_returned_whole()
    {
        using var decoder = new LengthPrefixDecoder(65536);
        byte[] payload = Enumerable.Range(0, 3000).Select(i => (byte)i).ToArray();
        byte[] frame = Wire.Frame(payload);
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode(frame.AsSpan(0, 1000), out _, out _));
        Assert.Equal(996, decoder.BufferedBytes);
        Assert.Equal(DecodeEvent.Request, decoder.Decode(frame.AsSpan(1000), out _, out ReadOnlySpan<byte> request));
        Assert.Equal(payload, request.ToArray());
    }

    [Fact]
    public void A_frame_of_exactly_max_bytes_is_a_request() =>
        Assert.Equal([Decoded.Request("abcd")], Decode(Wire.Frame("abcd"), max: 4));

    [Fact]
    public void A_frame_of_max_plus_one_bytes_is_too_long_and_its_payload_is_skipped() =>
        Assert.Equal([Decoded.TooLong, Decoded.Request("ok")], Decode(Wire.Of(Wire.Frame("abcde"), Wire.Frame("ok")), max: 4));

    [Fact]
    public void Too_long_is_reported_as_soon_as_the_header_is_read()
    {
        using var decoder = new LengthPrefixDecoder(4);
        byte[] input = Wire.Of(0, 0, 0, 5, "ab");
        Assert.Equal(DecodeEvent.TooLong, decoder.Decode(input, out int consumed, out _));
        Assert.Equal(4, consumed);
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode(input.AsSpan(consumed), out _, out _));
        Assert.Equal(DecodeEvent.NeedMore, decoder.Decode(Wire.Of("ab"), out _, out _));
        Assert.Equal(DecodeEvent.Request, decoder.Decode(Wire.Of("c", 0, 0, 0, 1, "x"), out _, out ReadOnlySpan<byte> request));
        Assert.Equal("x", Wire.Latin1(request));
        Assert.Equal(0, decoder.BufferedBytes);
    }

    [Fact]
    public void A_header_announcing_4_gib_minus_1_is_too_long_and_all_of_it_is_skipped_without_holding_memory()
    {
        using var decoder = new LengthPrefixDecoder(65536);
        Assert.Equal(DecodeEvent.TooLong, decoder.Decode(Wire.Of(255, 255, 255, 255), out _, out _));
        var mebibyte = new byte[1 << 20];
        for (int i = 0; i < 4095; i++)
        {
            Assert.Equal(DecodeEvent.NeedMore, decoder.Decode(mebibyte, out _, out _));
            Assert.Equal(0, decoder.BufferedBytes);
        }

        // 4095 MiB skipped; 1 MiB - 1 byte of the payload remain, then a real frame follows.
        byte[] last = Wire.Of(mebibyte[1..], Wire.Frame("PING"));
        Assert.Equal(DecodeEvent.Request, decoder.Decode(last, out int consumed, out ReadOnlySpan<byte> request));
        Assert.Equal("PING", Wire.Latin1(request));
        Assert.Equal(last.Length, consumed);
    }

    [Fact]
    public void A_partial_frame_at_finish_is_dropped() =>
        Assert.Equal([Decoded.Request("a")], Decode(Wire.Of(Wire.Frame("a"), 0, 0, 0, 9, "partial")));

    [Fact]
    public void A_partial_header_at_finish_is_dropped() =>
        Assert.Empty(Decode(Wire.Of(0, 0, 1)));

    [Fact]
    public void Finish_resets_the_decoder_also_while_skipping()
    {
        using var decoder = new LengthPrefixDecoder(4);
        Assert.Equal(DecodeEvent.TooLong, decoder.Decode(Wire.Of(0, 0, 1, 0), out _, out _));
        Assert.Equal(DecodeEvent.NeedMore, decoder.Finish(out _));
        Assert.Equal([Decoded.Request("ok")], Drive.Whole(decoder, Wire.Frame("ok")));
    }

    [Fact]
    public void Dispose_returns_the_buffer_and_later_use_throws()
    {
        var decoder = new LengthPrefixDecoder(65536);
        decoder.Decode(Wire.Of(0, 0, 0, 9, "par"), out _, out _);
        decoder.Dispose();
        Assert.Equal(0, decoder.BufferedBytes);
        Assert.Throws<ObjectDisposedException>(() => decoder.Decode(Wire.Of(0), out _, out _));
    }

    [Fact]
    public void Memory_held_stays_within_the_maximum_whatever_is_fed()
    {
        using var decoder = new LengthPrefixDecoder(1000);
        var random = new Random(11);
        var chunk = new byte[4096];
        for (int round = 0; round < 2000; round++)
        {
            random.NextBytes(chunk);
            // Small lengths often, so frames complete and the buffer is used, not only skipped.
            chunk[0] = 0;
            chunk[1] = 0;
            chunk[2] = (byte)(round % 5);
            ReadOnlySpan<byte> rest = chunk;
            while (!rest.IsEmpty)
            {
                decoder.Decode(rest, out int consumed, out _);
                Assert.InRange(decoder.BufferedBytes, 0, 1004);
                rest = rest[consumed..];
            }
        }
    }
}
