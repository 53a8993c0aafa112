using CsCheck;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class ReplyReaderPropertyTests
{
    private const int Iterations = 5_000;

    // Lines in these tests stay well under it, so a well-formed stream never trips the limit.
    private const int MaxLine = 64;

    // Memory a reader may hold beyond its maximum: the CR before a LF, and a partial 4-byte header.
    private const int Slack = 1 + 4;

    private static readonly Gen<int[]> Splits = Gen.Int[1, 9].Array[1, 8];

    // Bytes that matter to replies come often: line ends, the starts of OK and ERR, digits, spaces.
    private static readonly Gen<byte> LineByte = Gen.Frequency(
        (4, Gen.Byte),
        (4, Gen.OneOf<byte>((byte)'O', (byte)'K', (byte)'E', (byte)'R', (byte)' ', (byte)'3', (byte)'0')),
        (1, Gen.OneOf<byte>((byte)'\r', (byte)'\n')));

    private static readonly Gen<byte[]> AnyLine = Gen.Frequency(
        (5, LineByte.Array[0, 40]),
        (1, LineByte.Array[0, 20].Select(rest => Wire.Of("ERR ", rest))),
        (1, Gen.Int[0, 99].Select(n => Wire.Of($"OK {n}"))));

    private static readonly Gen<byte[]> ErrLine = LineByte.Array[0, 20].Select(rest => Wire.Of("ERR ", rest));

    [Fact]
    public void Text_replies_in_any_split_come_out_as_they_were_written() =>
        Gen.Select(Replies(binary: false), Splits, Gen.Bool).Sample((replies, splits, crlf) =>
            RoundTrip(replies, splits, binary: false, crlf), iter: Iterations);

    [Fact]
    public void Binary_replies_in_any_split_come_out_as_they_were_written() =>
        Gen.Select(Replies(binary: true), Splits).Sample((replies, splits) =>
            RoundTrip(replies, splits, binary: true, crlf: false), iter: Iterations);

    [Fact]
    public void Text_reader_on_arbitrary_bytes_never_throws_stays_bounded_and_ignores_the_split() =>
        Gen.Select(LineByte.Array[0, 300], Shapes, Splits, Gen.Int[0, 40]).Sample((bytes, shapes, splits, max) =>
            SameForAnySplit(bytes, shapes, splits, binary: false, max), iter: Iterations);

    [Fact]
    public void Binary_reader_on_arbitrary_bytes_never_throws_stays_bounded_and_ignores_the_split() =>
        Gen.Select(FrameishBytes, Shapes, Splits, Gen.Int[0, 40]).Sample((bytes, shapes, splits, max) =>
            SameForAnySplit(bytes, shapes, splits, binary: true, max), iter: Iterations);

    private static Gen<ReplyShape[]> Shapes => Gen.Enum<ReplyShape>().Array[0, 12];

    // Mostly frames, some of them OK headers followed by data frames, with garbage and huge headers thrown in.
    private static Gen<byte[]> FrameishBytes => Gen.Frequency(
            (4, LineByte.Array[0, 14].Select(Wire.Frame)),
            (2, Gen.Int[0, 9].Select(n => Wire.Frame($"OK {n}"))),
            (1, Gen.Byte.Array[0, 6]),
            (1, Gen.UInt.Select(length => Wire.Of(
                (byte)(length >> 24), (byte)(length >> 16), (byte)(length >> 8), (byte)length))))
        .Array[0, 12]
        .Select(parts => parts.SelectMany(p => p).ToArray());

    private static Gen<ModelReply[]> Replies(bool binary)
    {
        // A text line cannot hold a LF, and a CR at its end would read as part of a CR LF.
        Gen<byte[]> Line(Gen<byte[]> gen) => binary
            ? gen
            : gen.Select(line => line.Select(b => b == (byte)'\n' ? (byte)'n' : b).ToArray())
                .Select(line => line.Length > 0 && line[^1] == '\r' ? [.. line[..^1], (byte)'r'] : line);

        Gen<ModelReply> single = Line(AnyLine).Select(line => new ModelReply(ReplyShape.Line, [line], [], [1]));
        Gen<ModelReply> block = Gen.Select(Line(AnyLine).Array[0, 5], Gen.Bool).Select((lines, partial) =>
            new ModelReply(ReplyShape.Block, [Wire.Of($"OK {lines.Length}{(partial ? " partial" : "")}"), .. lines], [], [1]));
        Gen<ModelReply> file = Gen.Select(Gen.Byte.Array[0, 40], Gen.Int[1, 7].Array[1, 4]).Select((data, frames) =>
            new ModelReply(ReplyShape.File, [Wire.Of($"OK {data.Length}")], data, frames));
        Gen<ModelReply> refused = Gen.Select(Line(ErrLine), Gen.OneOf(Gen.Const(ReplyShape.Block), Gen.Const(ReplyShape.File)))
            .Select((line, shape) => new ModelReply(shape, [line], [], [1]));
        return Gen.Frequency((3, single), (2, block), (3, file), (1, refused)).Array[0, 10];
    }

    private static void RoundTrip(ModelReply[] replies, int[] splits, bool binary, bool crlf)
    {
        byte[] wire = ReferenceReplies.Write(replies, binary, crlf);
        ReplyShape[] shapes = replies.Select(r => r.Shape).ToArray();
        List<ReplyItem> written = replies.SelectMany(r => r.Expected()).ToList();

        Assert.Equal(written, ReferenceReplies.Read(wire, shapes, binary));
        Assert.Equal(written, ReplyDrive.Chunks(ReplyReader.For(binary, MaxLine), [wire], shapes, MaxLine + Slack));
        Assert.Equal(written, ReplyDrive.Chunks(ReplyReader.For(binary, MaxLine), Drive.Split(wire, splits), shapes, MaxLine + Slack));
        Assert.Equal(written, ReplyDrive.Chunks(ReplyReader.For(binary, MaxLine), Drive.Split(wire, [1]), shapes, MaxLine + Slack));
    }

    private static void SameForAnySplit(byte[] bytes, ReplyShape[] shapes, int[] splits, bool binary, int max)
    {
        List<ReplyItem> whole = ReplyDrive.Chunks(ReplyReader.For(binary, max), [bytes], shapes, max + Slack);
        Assert.Equal(whole, ReplyDrive.Chunks(ReplyReader.For(binary, max), Drive.Split(bytes, splits), shapes, max + Slack));
        Assert.Equal(whole, ReplyDrive.Chunks(ReplyReader.For(binary, max), Drive.Split(bytes, [1]), shapes, max + Slack));
        Assert.True(whole.Count(i => i.Event == ReplyEvent.FramingError) <= 1, "a framing error is reported once");
        Assert.Equal(0, whole.FindIndex(i => i.Event == ReplyEvent.FramingError) is var at and >= 0 ? whole.Count - 1 - at : 0);
    }
}
