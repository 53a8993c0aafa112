using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class ReplyReaderTests
{
    private static List<ReplyItem> Read(ReplyReader reader, byte[] wire, params ReplyShape[] shapes) =>
        ReplyDrive.Chunks(reader, [wire], shapes);

    private static ReplyItem Single(string text) => ReplyItem.Line(ReplyLineKind.Single, text);

    [Fact]
    public void Text_lines_lose_their_lf_and_a_cr_before_it()
    {
        var reader = ReplyReader.ForText(64);
        Assert.Equal([Single("Welcome!"), Single("What's your name?")], Read(reader, Wire.Of("Welcome!\r\nWhat's your name?\n")));
    }

    [Fact]
    public void Text_reader_says_which_lines_ended_with_crlf()
    {
        var reader = ReplyReader.ForText(64);
        byte[] wire = Wire.Of("a\r\nb\n");
        Assert.Equal(ReplyEvent.Line, reader.Read(wire, out int consumed, out _));
        Assert.True(reader.EndedWithCrLf);
        Assert.Equal(ReplyEvent.Line, reader.Read(wire.AsSpan(consumed), out _, out _));
        Assert.False(reader.EndedWithCrLf);
    }

    [Fact]
    public void Cr_and_lf_split_across_reads_still_end_one_line()
    {
        var reader = ReplyReader.ForText(64);
        Assert.Equal([Single("PONG"), Single("")], ReplyDrive.Chunks(reader, [Wire.Of("PO"), Wire.Of("NG\r"), Wire.Of("\n\r"), Wire.Of("\n")], []));
    }

    [Fact]
    public void A_cr_not_before_a_lf_is_part_of_the_line() =>
        Assert.Equal([Single("a\rb")], Read(ReplyReader.ForText(64), Wire.Of("a\rb\n")));

    [Fact]
    public void Empty_frame_is_an_empty_reply_line() =>
        Assert.Equal([Single(""), Single("PONG")], Read(ReplyReader.ForBinary(64), Wire.Of(Wire.Frame(""), Wire.Frame("PONG"))));

    [Fact]
    public void A_lf_inside_a_frame_is_part_of_its_line() =>
        Assert.Equal([Single("a\nb")], Read(ReplyReader.ForBinary(64), Wire.Frame("a\nb")));

    [Fact]
    public void Frames_split_anywhere_across_reads_come_out_whole()
    {
        byte[] wire = Wire.Of(Wire.Frame("Hello neo!"), Wire.Frame("PONG"));
        Assert.Equal([Single("Hello neo!"), Single("PONG")], ReplyDrive.Chunks(ReplyReader.ForBinary(64), Drive.Split(wire, [1, 3, 2, 5]), []));
    }

    [Fact]
    public void Text_line_longer_than_the_maximum_is_a_framing_error_as_soon_as_it_passes_it()
    {
        var reader = ReplyReader.ForText(8);
        Assert.Equal(ReplyEvent.NeedMore, reader.Read(Wire.Of("123456789"), out _, out _));
        Assert.Equal(ReplyEvent.FramingError, reader.Read(Wire.Of("0"), out _, out _));
        Assert.Equal(ReplyFramingError.LineTooLong, reader.FramingError);
        Assert.Equal("reply line longer than 8 bytes", reader.FramingErrorReason);
        Assert.True(reader.BufferedBytes <= 9);
    }

    [Fact]
    public void Text_line_of_exactly_the_maximum_is_read_with_or_without_its_cr()
    {
        Assert.Equal([Single("12345678")], Read(ReplyReader.ForText(8), Wire.Of("12345678\r\n")));
        Assert.Equal([Single("12345678")], ReplyDrive.Chunks(ReplyReader.ForText(8), [Wire.Of("12345678\r"), Wire.Of("\n")], []));
    }

    [Fact]
    public void Whole_text_line_one_past_the_maximum_is_a_framing_error() =>
        Assert.Equal([ReplyItem.FramingError], Read(ReplyReader.ForText(8), Wire.Of("123456789\nPONG\n")));

    [Fact]
    public void Frame_longer_than_the_maximum_is_a_framing_error_when_its_header_arrives()
    {
        var reader = ReplyReader.ForBinary(8);
        Assert.Equal(ReplyEvent.FramingError, reader.Read(Wire.Of(0, 0, 0, 9), out int consumed, out _));
        Assert.Equal(4, consumed);
        Assert.Equal(ReplyFramingError.FrameTooLong, reader.FramingError);
        Assert.Equal("reply frame of 9 bytes (max 8)", reader.FramingErrorReason);
    }

    [Fact]
    public void After_a_framing_error_the_reader_takes_everything_and_finds_nothing_until_reset()
    {
        var reader = ReplyReader.ForBinary(8);
        Assert.Equal(ReplyEvent.FramingError, reader.Read(Wire.Of(0, 0, 0, 9), out _, out _));
        Assert.Equal(ReplyEvent.NeedMore, reader.Read(Wire.Frame("PONG"), out int consumed, out _));
        Assert.Equal(8, consumed);
        reader.Reset();
        Assert.Equal([Single("PONG")], Read(reader, Wire.Frame("PONG")));
    }

    [Fact]
    public void Err_line_at_the_start_of_a_reply_is_an_error_whatever_was_expected()
    {
        Assert.Equal([ReplyItem.Line(ReplyLineKind.Error, "ERR not found: a")], Read(ReplyReader.ForText(64), Wire.Of("ERR not found: a\n"), ReplyShape.File));
        Assert.Equal([ReplyItem.Line(ReplyLineKind.Error, "ERR idle timeout")], Read(ReplyReader.ForText(64), Wire.Of("ERR idle timeout\n")));
    }

    [Fact]
    public void Block_is_its_header_then_its_n_lines_even_lines_that_look_like_errors()
    {
        var reader = ReplyReader.ForText(64);
        Assert.Equal(
            [
                ReplyItem.Line(ReplyLineKind.BlockHeader, "OK 2"),
                ReplyItem.Line(ReplyLineKind.BlockLine, "ERR is a name"),
                ReplyItem.Line(ReplyLineKind.BlockLine, "neo"),
                Single("PONG"),
            ],
            Read(reader, Wire.Of("OK 2\nERR is a name\nneo\nPONG\n"), ReplyShape.Block, ReplyShape.Line));
        Assert.Equal(2, reader.Count);
    }

    [Fact]
    public void Partial_who_header_counts_its_lines_too()
    {
        var reader = ReplyReader.ForBinary(64);
        Assert.Equal(
            [ReplyItem.Line(ReplyLineKind.BlockHeader, "OK 1 partial"), ReplyItem.Line(ReplyLineKind.BlockLine, "neo")],
            Read(reader, Wire.Of(Wire.Frame("OK 1 partial"), Wire.Frame("neo")), ReplyShape.Block));
    }

    [Fact]
    public void Ok_0_block_is_complete_with_its_header() =>
        Assert.Equal(
            [ReplyItem.Line(ReplyLineKind.BlockHeader, "OK 0"), Single("OK 3")],
            Read(ReplyReader.ForText(64), Wire.Of("OK 0\nOK 3\n"), ReplyShape.Block));

    [Fact]
    public void Ok_n_of_a_get_in_text_is_followed_by_n_raw_bytes_line_ends_and_all()
    {
        var reader = ReplyReader.ForText(64);
        Assert.Equal(
            [ReplyItem.Line(ReplyLineKind.FileHeader, "OK 5"), ReplyItem.Data(Wire.Of("a\nb\r\n")), Single("Goodbye!")],
            ReplyDrive.Chunks(reader, Drive.Split(Wire.Of("OK 5\na\nb\r\nGoodbye!\n"), [6, 1]), [ReplyShape.File]));
    }

    [Fact]
    public void Ok_n_of_a_get_in_binary_is_followed_by_data_frames_that_add_up_to_n()
    {
        var reader = ReplyReader.ForBinary(4);
        byte[] wire = Wire.Of(Wire.Frame("OK 7"), Wire.Frame("abc"), Wire.Frame("defg"), Wire.Frame("PONG"));
        Assert.Equal(
            [ReplyItem.Line(ReplyLineKind.FileHeader, "OK 7"), ReplyItem.Data(Wire.Of("abcdefg")), Single("PONG")],
            ReplyDrive.Chunks(reader, Drive.Split(wire, [5, 2]), [ReplyShape.File]));
    }

    [Fact]
    public void Data_frames_may_be_longer_than_the_maximum_reply_line()
    {
        var reader = ReplyReader.ForBinary(16);
        byte[] data = new byte[ReplyReader.MaxDataFrameBytes];
        List<ReplyItem> items = ReplyDrive.Chunks(reader, Drive.Split(Wire.Of(Wire.Frame($"OK {data.Length}"), Wire.Frame(data)), [1000]), [ReplyShape.File], maxBuffered: 16 + 4);
        Assert.Equal([ReplyEvent.Line, ReplyEvent.Data], items.Select(i => i.Event));
        Assert.Equal(data.Length, items[1].Bytes.Length);
    }

    [Fact]
    public void Ok_0_of_a_get_has_no_data_frame_so_the_next_frame_is_the_next_reply() =>
        Assert.Equal(
            [ReplyItem.Line(ReplyLineKind.FileHeader, "OK 0"), Single("")],
            Read(ReplyReader.ForBinary(64), Wire.Of(Wire.Frame("OK 0"), Wire.Frame("")), ReplyShape.File));

    [Theory]
    [InlineData(0)]
    [InlineData(4)]
    [InlineData(ReplyReader.MaxDataFrameBytes + 1)]
    public void Data_frame_that_is_empty_too_long_or_past_the_count_is_a_framing_error(int frameLength)
    {
        var reader = ReplyReader.ForBinary(64);
        reader.ExpectReply(ReplyShape.File);
        byte[] wire = Wire.Of(Wire.Frame("OK 3"), (byte)(frameLength >> 24), (byte)(frameLength >> 16), (byte)(frameLength >> 8), (byte)frameLength);
        Assert.Equal(ReplyEvent.Line, reader.Read(wire, out int consumed, out _));
        Assert.Equal(ReplyEvent.FramingError, reader.Read(wire.AsSpan(consumed), out _, out _));
        Assert.Equal(ReplyFramingError.BadDataFrame, reader.FramingError);
    }

    [Fact]
    public void File_cut_short_by_the_close_shows_the_bytes_still_to_come()
    {
        var reader = ReplyReader.ForBinary(64);
        Assert.Equal(
            [ReplyItem.Line(ReplyLineKind.FileHeader, "OK 10"), ReplyItem.Data(Wire.Of("abc"))],
            Read(reader, Wire.Of(Wire.Frame("OK 10"), Wire.Frame("abc")), ReplyShape.File));
        Assert.Equal(7, reader.DataRemaining);
        Assert.False(reader.ReplyComplete);
    }

    [Fact]
    public void Last_text_line_without_a_lf_is_handed_out_at_the_close_cr_and_all()
    {
        var reader = ReplyReader.ForText(64);
        Assert.Equal(ReplyEvent.NeedMore, reader.Read(Wire.Of("ERR server full\r"), out _, out _));
        Assert.Equal(ReplyEvent.Line, reader.Finish(out ReadOnlySpan<byte> line));
        Assert.Equal("ERR server full\r", Wire.Latin1(line));
        Assert.Equal(ReplyEvent.NeedMore, reader.Finish(out _));
    }

    [Fact]
    public void Partial_frame_at_the_close_is_dropped()
    {
        var reader = ReplyReader.ForBinary(64);
        Assert.Equal(ReplyEvent.NeedMore, reader.Read(Wire.Of(0, 0, 0, 4, "PO"), out _, out _));
        Assert.Equal(ReplyEvent.NeedMore, reader.Finish(out _));
        Assert.Equal(0, reader.BufferedBytes);
    }

    [Fact]
    public void Shape_said_for_one_reply_does_not_carry_over_to_the_next() =>
        Assert.Equal(
            [Single("PONG"), Single("OK 3")],
            Read(ReplyReader.ForText(64), Wire.Of("PONG\nOK 3\n"), ReplyShape.Line));

    [Fact]
    public void Reading_whole_and_split_replies_allocates_nothing_once_warm()
    {
        byte[] text = Wire.Of(string.Concat(Enumerable.Repeat("OK 2\na rather long reply line\nb\nPONG\r\nOK 4\nabcdPONG\n", 50)));
        byte[] binary = Enumerable.Range(0, 50).SelectMany(_ => Wire.Of(
            Wire.Frame("OK 2"), Wire.Frame("a rather long reply line"), Wire.Frame("b"), Wire.Frame("PONG"), Wire.Frame("OK 4"), Wire.Frame("ab"), Wire.Frame("cd"))).ToArray();
        ReplyShape[] shapes = [ReplyShape.Block, ReplyShape.Line, ReplyShape.File, ReplyShape.Line];
        var textReader = ReplyReader.ForText(4096);
        var binaryReader = ReplyReader.ForBinary(4096);
        byte[][] textWhole = [text];
        byte[][] binaryWhole = [binary];
        byte[][] textChunks = Drive.Split(text, [7]).ToArray();
        byte[][] binaryChunks = Drive.Split(binary, [7]).ToArray();

        void ReadAll(ReplyReader reader, byte[][] chunks)
        {
            int next = 0;
            foreach (byte[] chunk in chunks)
            {
                ReadOnlySpan<byte> rest = chunk;
                while (true)
                {
                    if (reader.ReplyComplete)
                    {
                        reader.ExpectReply(shapes[next++ % shapes.Length]);
                    }

                    if (reader.Read(rest, out int consumed, out _) == ReplyEvent.NeedMore)
                    {
                        break;
                    }

                    rest = rest[consumed..];
                }
            }
        }

        void Both()
        {
            ReadAll(textReader, textWhole);
            ReadAll(textReader, textChunks);
            ReadAll(binaryReader, binaryWhole);
            ReadAll(binaryReader, binaryChunks);
        }

        Both();
        long before = GC.GetAllocatedBytesForCurrentThread();
        Both();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
