using System.Buffers;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class RequestEncoderTests
{
    [Fact]
    public void Text_request_is_the_line_in_utf8_then_lf() =>
        Assert.Equal("ECHO 张三\n"u8.ToArray(), RequestEncoder.Text.Encode("ECHO 张三"));

    [Fact]
    public void Binary_request_is_a_big_endian_length_then_the_utf8_payload() =>
        Assert.Equal(Wire.Of(0, 0, 0, 9, "ECHO ", 0xE5, 0xBC, 0xA0, "!"), RequestEncoder.Binary.Encode("ECHO 张!"));

    [Fact]
    public void Empty_binary_request_is_a_zero_length_frame() =>
        Assert.Equal(Wire.Of(0, 0, 0, 0), RequestEncoder.Binary.Encode(""));

    [Fact]
    public void Binary_request_may_hold_a_lf_as_part_of_its_one_line() =>
        Assert.Equal(Wire.Of(0, 0, 0, 3, "a\nb"), RequestEncoder.Binary.Encode("a\nb"));

    [Fact]
    public void Text_request_with_a_lf_is_refused_rather_than_sent_as_two_requests()
    {
        Assert.Throws<ArgumentException>(() => RequestEncoder.Text.Encode("PING\nQUIT"));
        Assert.Throws<ArgumentException>(() => RequestEncoder.Text.EncodeUtf8("PING\nQUIT"u8));
    }

    [Fact]
    public void Writing_into_a_buffer_writer_appends_requests_back_to_back()
    {
        var output = new ArrayBufferWriter<byte>();
        RequestEncoder.Binary.Write(output, "PING");
        RequestEncoder.Binary.WriteUtf8(output, "QUIT"u8);
        Assert.Equal(Wire.Of(0, 0, 0, 4, "PING", 0, 0, 0, 4, "QUIT"), output.WrittenSpan.ToArray());
    }

    [Fact]
    public void Writing_into_a_span_fills_exactly_the_byte_count()
    {
        Span<byte> span = stackalloc byte[32];
        int written = RequestEncoder.Text.Write("WHO", span);
        Assert.Equal(RequestEncoder.Text.GetByteCount("WHO"), written);
        Assert.Equal("WHO\n"u8.ToArray(), span[..written].ToArray());
    }

    [Fact]
    public void Writing_into_a_span_too_short_throws_and_says_how_much_is_needed() =>
        Assert.Throws<ArgumentException>(() => RequestEncoder.Binary.Write("PING", new byte[7]));

    [Fact]
    public void Writing_a_request_into_a_reused_buffer_does_not_allocate()
    {
        var output = new ArrayBufferWriter<byte>(1024);
        void WriteSome()
        {
            output.ResetWrittenCount();
            for (int i = 0; i < 20; i++)
            {
                RequestEncoder.Binary.Write(output, "ECHO hello");
                RequestEncoder.Text.WriteUtf8(output, "PING"u8);
            }
        }

        WriteSome();
        long before = GC.GetAllocatedBytesForCurrentThread();
        WriteSome();
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Theory]
    [InlineData("a.txt", null, null, "GET a.txt")]
    [InlineData("my file.txt", 0L, 10L, "GET \"my file.txt\" 0 10")]
    [InlineData("say \"hi\".txt", 5L, null, "GET \"say \\\"hi\\\".txt\" 5")]
    [InlineData("back\\slash", null, null, "GET \"back\\\\slash\"")]
    public void Get_request_quotes_the_path_as_the_contract_says(string path, long? offset, long? length, string expected) =>
        Assert.Equal(expected, Requests.Get(path, offset, length));

    [Fact]
    public void Get_request_path_reads_back_through_the_servers_argument_splitter()
    {
        var tokens = new List<string>();
        Assert.True(Arguments.TrySplit(Requests.Get("a \"b\"\\c\td", 1, 2)[4..], tokens, out _));
        Assert.Equal(["a \"b\"\\c\td", "1", "2"], tokens);
    }

    [Fact]
    public void Get_request_with_a_length_but_no_offset_is_refused() =>
        Assert.Throws<ArgumentException>(() => Requests.Get("a", offset: null, length: 3));

    [Fact]
    public void List_request_quotes_its_folder_and_has_none_by_default()
    {
        Assert.Equal("LIST", Requests.List());
        Assert.Equal("LIST \"my docs\"", Requests.List("my docs"));
    }
}
