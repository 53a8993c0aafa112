using System.Text;
using CsCheck;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class DecoderPropertyTests
{
    private const int Iterations = 10_000;

    // Memory a decoder may hold beyond its maximum: at most a partial 4-byte header.
    private const int Slack = 8;

    private static readonly Encoding[] Encodings =
    [
        TextEncodings.Resolve("utf-8"),
        TextEncodings.Resolve("gbk"),
        TextEncodings.Resolve("gb18030"),
        TextEncodings.Resolve("shift_jis"),
        TextEncodings.Resolve("iso-8859-1"),
    ];

    // Bytes that matter to text framing come often; random bytes fill the rest, including UTF-8 and GBK leads.
    private static readonly Gen<byte> TextByte = Gen.Frequency(
        (6, Gen.Byte),
        (6, Gen.OneOf<byte>((byte)'a', (byte)'b', (byte)' ')),
        (3, Gen.OneOf<byte>((byte)'\n', (byte)'\r', 0)),
        (2, Gen.OneOf<byte>(8, 127)),
        (4, Gen.OneOf<byte>(255, 255, 253, 6, 250, 240, 251, 252, 254, 244)),
        (2, Gen.OneOf<byte>(0xE4, 0xB8, 0x80, 0xC3, 0xF0, 0x9F, 0x81, 0x40, 0x30)));

    private static readonly Gen<byte[]> TextBytes = TextByte.Array[0, 160];

    private static readonly Gen<int[]> Splits = Gen.Int[1, 9].Array[1, 8];

    // Streams of mostly well-formed frames around the limit, with some garbage thrown in.
    private static readonly Gen<byte[]> FrameBytes = Gen.Frequency(
            (5, Gen.Byte.Array[0, 14].Select(Wire.Frame)),
            (1, Gen.Byte.Array[0, 6]),
            (1, Gen.UInt.Select(length => Wire.Of(
                (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length))))
        .Array[0, 12]
        .Select(parts => parts.SelectMany(p => p).ToArray());

    [Fact]
    public void Line_decoder_gives_the_same_events_for_any_split_of_the_input() =>
        Gen.Select(TextBytes, Splits, Gen.Int[0, 12], Gen.Int[0, Encodings.Length - 1]).Sample((bytes, splits, max, e) =>
        {
            List<Decoded> whole = Drive.Whole(new LineDecoder(max, Encodings[e]), bytes, maxBuffered: max + Slack);
            List<Decoded> split = Drive.Chunks(new LineDecoder(max, Encodings[e]), Drive.Split(bytes, splits), maxBuffered: max + Slack);
            List<Decoded> trickled = Drive.ByteByByte(new LineDecoder(max, Encodings[e]), bytes, maxBuffered: max + Slack);
            Assert.Equal(whole, split);
            Assert.Equal(whole, trickled);
        }, iter: Iterations);

    [Fact]
    public void Line_decoder_agrees_with_the_reference_rules_on_random_streams() =>
        Gen.Select(TextBytes, Splits, Gen.Int[0, 12], Gen.Int[0, Encodings.Length - 1]).Sample((bytes, splits, max, e) =>
        {
            using var decoder = new LineDecoder(max, Encodings[e]);
            Assert.Equal(
                ReferenceFraming.Lines(bytes, max, Encodings[e]),
                Drive.Chunks(decoder, Drive.Split(bytes, splits), maxBuffered: max + Slack));
        }, iter: Iterations);

    [Fact]
    public void Line_decoder_never_throws_and_stays_within_its_memory_bound_on_arbitrary_bytes() =>
        Gen.Select(Gen.Byte.Array[0, 600], Splits, Gen.Int[0, 64]).Sample((bytes, splits, max) =>
        {
            using var decoder = new LineDecoder(max, Encodings[0]);
            Drive.Chunks(decoder, Drive.Split(bytes, splits), maxBuffered: max + Slack);
        }, iter: Iterations);

    [Fact]
    public void Line_decoder_takes_long_lines_in_any_split_the_same_way() =>
        Gen.Select(Gen.OneOf<byte>((byte)'x', (byte)'\n', (byte)'\r', 8).Array[0, 300], Splits, Gen.Int[60, 80]).Sample((bytes, splits, max) =>
        {
            List<Decoded> whole = Drive.Whole(new LineDecoder(max, Encodings[0]), bytes, maxBuffered: max + Slack);
            Assert.Equal(whole, Drive.Chunks(new LineDecoder(max, Encodings[0]), Drive.Split(bytes, splits), maxBuffered: max + Slack));
            Assert.Equal(whole, ReferenceFraming.Lines(bytes, max, Encodings[0]));
        }, iter: Iterations);

    [Fact]
    public void Erasing_in_multi_byte_encodings_matches_decoding_the_line_from_its_start() =>
        Gen.Select(Gen.Byte.Array[1, 40], Gen.Int[0, Encodings.Length - 1]).Sample((line, e) =>
        {
            // Line content never holds LF, CR, BS or DEL, so neither does this.
            byte[] content = line.Select(b => b is (byte)'\n' or (byte)'\r' or 8 or 127 ? (byte)'z' : b).ToArray();
            Assert.Equal(
                ReferenceFraming.StartOfLastCharacter(content, Encodings[e]),
                CharacterEraser.For(Encodings[e]).StartOfLast(content));
        }, iter: Iterations);

    [Fact]
    public void Length_prefix_decoder_gives_the_same_events_for_any_split_of_the_input() =>
        Gen.Select(FrameBytes, Splits, Gen.Int[0, 12]).Sample((bytes, splits, max) =>
        {
            List<Decoded> whole = Drive.Whole(new LengthPrefixDecoder(max), bytes, maxBuffered: max + Slack);
            List<Decoded> split = Drive.Chunks(new LengthPrefixDecoder(max), Drive.Split(bytes, splits), maxBuffered: max + Slack);
            List<Decoded> trickled = Drive.ByteByByte(new LengthPrefixDecoder(max), bytes, maxBuffered: max + Slack);
            Assert.Equal(whole, split);
            Assert.Equal(whole, trickled);
            Assert.Equal(ReferenceFraming.Frames(bytes, max), whole);
        }, iter: Iterations);

    [Fact]
    public void Length_prefix_decoder_never_throws_and_stays_within_its_memory_bound_on_arbitrary_bytes() =>
        Gen.Select(Gen.Byte.Array[0, 600], Splits, Gen.Int[0, 300]).Sample((bytes, splits, max) =>
        {
            using var decoder = new LengthPrefixDecoder(max);
            Drive.Chunks(decoder, Drive.Split(bytes, splits), maxBuffered: max + Slack);
        }, iter: Iterations);
}
