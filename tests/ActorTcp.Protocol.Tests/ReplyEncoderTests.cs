using System.Buffers;
using System.Text;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class ReplyEncoderTests
{
    private static byte[] Write(Action<IBufferWriter<byte>> write)
    {
        var output = new ArrayBufferWriter<byte>();
        write(output);
        return output.WrittenSpan.ToArray();
    }

    [Fact]
    public void Text_reply_is_the_line_in_utf8_then_lf() =>
        Assert.Equal("Hello 张三!\n"u8.ToArray(), Write(o => new TextReplyEncoder(TextEncodings.Resolve("utf-8"), crlf: false).WriteLine(o, "Hello 张三!")));

    [Fact]
    public void Text_reply_ends_with_crlf_when_configured() =>
        Assert.Equal("PONG\r\n"u8.ToArray(), Write(o => new TextReplyEncoder(TextEncodings.Resolve("utf-8"), crlf: true).WriteLine(o, "PONG")));

    [Fact]
    public void Text_reply_is_encoded_in_the_text_encoding()
    {
        Encoding gbk = TextEncodings.Resolve("gbk");
        Assert.Equal(Wire.Of(gbk.GetBytes("Hello 张三!"), "\n"), Write(o => new TextReplyEncoder(gbk, crlf: false).WriteLine(o, "Hello 张三!")));
    }

    [Fact]
    public void Text_reply_with_a_character_the_encoding_lacks_does_not_throw() =>
        Assert.Equal("a?b\n"u8.ToArray(), Write(o => new TextReplyEncoder(TextEncodings.Resolve("us-ascii"), crlf: false).WriteLine(o, "aéb")));

    [Fact]
    public void Text_reply_of_already_encoded_bytes_is_copied_then_ended() =>
        Assert.Equal(Wire.Of(0xC4, 0xE3, "\r\n"), Write(o => new TextReplyEncoder(TextEncodings.Resolve("gbk"), crlf: true).WriteEncodedLine(o, Wire.Of(0xC4, 0xE3))));

    [Fact]
    public void Empty_text_reply_is_just_the_line_end() =>
        Assert.Equal("\n"u8.ToArray(), Write(o => new TextReplyEncoder(TextEncodings.Resolve("utf-8"), crlf: false).WriteLine(o, "")));

    [Fact]
    public void Binary_reply_is_one_frame_of_utf8_without_a_newline() =>
        Assert.Equal(Wire.Of(0, 0, 0, 6, "OK 2\u00E9"u8.ToArray()), Write(o => BinaryReplyEncoder.Instance.WriteLine(o, "OK 2é")));

    [Fact]
    public void Binary_reply_of_encoded_bytes_is_one_frame() =>
        Assert.Equal(Wire.Of(0, 0, 0, 2, "hi"), Write(o => BinaryReplyEncoder.Instance.WriteEncodedLine(o, "hi"u8)));

    [Fact]
    public void Empty_binary_reply_is_a_zero_length_frame() =>
        Assert.Equal(Wire.Of(0, 0, 0, 0), Write(o => BinaryReplyEncoder.Instance.WriteLine(o, "")));

    [Fact]
    public void Binary_reply_with_a_lone_surrogate_writes_u_fffd_instead_of_throwing() =>
        Assert.Equal(Wire.Of(0, 0, 0, 3, 0xEF, 0xBF, 0xBD), Write(o => BinaryReplyEncoder.Instance.WriteLine(o, "\uD800")));

    [Fact]
    public void Binary_listener_encoding_is_utf8_whatever_the_text_encoding() =>
        Assert.Equal(Encoding.UTF8.CodePage, BinaryReplyEncoder.Instance.Encoding.CodePage);

    [Fact]
    public void Wont_timing_mark_is_iac_wont_6() =>
        Assert.Equal(new byte[] { 255, 252, 6 }, Telnet.WontTimingMark.ToArray());
}
