using System.Text;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class LineDecoderEraseTests : LineDecoderTestBase
{
    private const byte Bs = 8;
    private const byte Del = 127;

    private static readonly Encoding Gbk = TextEncodings.Resolve("gbk");
    private static readonly Encoding Gb18030 = TextEncodings.Resolve("gb18030");
    private static readonly Encoding ShiftJis = TextEncodings.Resolve("shift_jis");
    private static readonly Encoding Latin1 = TextEncodings.Resolve("iso-8859-1");

    [Fact]
    public void Bs_erases_the_previous_character_of_the_line() =>
        Assert.Equal(Requests("abd"), Decode("abc", Bs, "d\n"));

    [Fact]
    public void Del_erases_like_bs() =>
        Assert.Equal(Requests("ab"), Decode("abc", Del, "\n"));

    [Fact]
    public void Bs_on_an_empty_line_erases_nothing() =>
        Assert.Equal(Requests("ab"), Decode(Bs, Del, "ab\n"));

    [Fact]
    public void Bs_never_reaches_into_the_previous_line() =>
        Assert.Equal(Requests("ab", "c"), Decode("ab\n", Bs, Bs, "c\n"));

    [Fact]
    public void Bs_and_del_are_never_data() =>
        Assert.Equal(Requests(""), Decode(Bs, Del, "\n"));

    [Fact]
    public void Bs_after_a_lone_cr_erases_that_cr() =>
        Assert.Equal(Requests("ab"), Decode("ab\r", Bs, "\n"));

    [Fact]
    public void Bs_erases_a_literal_255_sent_as_iac_iac() =>
        Assert.Equal(Requests("a"), Decode("a", Telnet.Iac, Telnet.Iac, Bs, "\n"));

    [Theory]
    [InlineData("a张", "a")]
    [InlineData("张三", "张")]
    [InlineData("José", "Jos")]
    [InlineData("a😀", "a")]
    [InlineData("😀😀", "😀")]
    [InlineData("a€", "a")]
    public void Bs_erases_a_whole_utf8_code_point(string typed, string left) =>
        Assert.Equal([Decoded.Request(Encoding.UTF8.GetBytes(left))], Decode(Wire.Of(Encoding.UTF8.GetBytes(typed), Bs, "\n")));

    [Fact]
    public void Bs_erases_a_combining_mark_alone_since_it_is_its_own_code_point() =>
        Assert.Equal([Decoded.Request("e"u8.ToArray())], Decode(Wire.Of("e\u0301"u8.ToArray(), Bs, "\n")));

    [Fact]
    public void Bs_erases_a_truncated_utf8_sequence_whole() =>
        Assert.Equal(Requests("a"), Decode("a", 0xE4, 0xB8, Bs, "\n"));

    [Fact]
    public void Bs_erases_stray_utf8_continuation_bytes_one_at_a_time() =>
        Assert.Equal(Requests("a\u0080"), Decode("a", 0x80, 0x80, Bs, "\n"));

    [Fact]
    public void Bs_after_too_many_continuation_bytes_erases_only_the_last_byte() =>
        Assert.Equal(Requests("\u00C3\u0080"), Decode(0xC3, 0x80, 0x80, Bs, "\n"));

    [Fact]
    public void Bs_erases_an_invalid_utf8_lead_byte_alone() =>
        Assert.Equal(Requests("a\u00F8"), Decode("a", 0xF8, 0xF8, Bs, "\n"));

    [Fact]
    public void Bs_in_a_single_byte_encoding_erases_one_byte() =>
        Assert.Equal(Requests("a"), Decode(Wire.Of("a", 0xE9, Bs, "\n"), encoding: Latin1));

    [Theory]
    [InlineData("a你好", "a你")]
    [InlineData("你a", "你")]
    [InlineData("丂", "")]
    [InlineData("a丂", "a")]
    [InlineData("丂@", "丂")]
    [InlineData("丂丂丂", "丂丂")]
    [InlineData("€", "")]
    public void Bs_in_gbk_erases_a_whole_character_found_by_decoding_the_line(string typed, string left) =>
        Assert.Equal([Decoded.Request(Gbk.GetBytes(left))], Decode(Wire.Of(Gbk.GetBytes(typed), Bs, "\n"), encoding: Gbk));

    [Fact]
    public void Bs_in_gbk_after_a_lone_lead_byte_erases_that_byte() =>
        Assert.Equal([Decoded.Request(Gbk.GetBytes("你"))], Decode(Wire.Of(Gbk.GetBytes("你"), 0x81, Bs, "\n"), encoding: Gbk));

    [Theory]
    [InlineData("a😀", "a")]
    [InlineData("中文", "中")]
    [InlineData("x€", "x")]
    [InlineData("a b丂", "a b")]
    public void Bs_in_gb18030_erases_a_whole_character_of_up_to_four_bytes(string typed, string left) =>
        Assert.Equal([Decoded.Request(Gb18030.GetBytes(left))], Decode(Wire.Of(Gb18030.GetBytes(typed), Bs, "\n"), encoding: Gb18030));

    [Theory]
    [InlineData("aｱ", "a")]
    [InlineData("日本", "日")]
    [InlineData("ｱ日", "ｱ")]
    public void Bs_in_shift_jis_erases_a_whole_character(string typed, string left) =>
        Assert.Equal([Decoded.Request(ShiftJis.GetBytes(left))], Decode(Wire.Of(ShiftJis.GetBytes(typed), Bs, "\n"), encoding: ShiftJis));

    [Fact]
    public void Invalid_utf8_never_throws_and_is_kept_as_bytes() =>
        Assert.Equal(Requests("\u00C3(\u00A0\u00A1\u00F0\u0028\u008C\u0028"), Decode(0xC3, 0x28, 0xA0, 0xA1, 0xF0, 0x28, 0x8C, 0x28, "\n"));
}
