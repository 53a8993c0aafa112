using System.Text;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class TextEncodingsTests
{
    [Theory]
    [InlineData("utf-8", 65001)]
    [InlineData("UTF-8", 65001)]
    [InlineData("utf8", 65001)]
    [InlineData("gbk", 936)]
    [InlineData("GB18030", 54936)]
    [InlineData("shift_jis", 932)]
    [InlineData("big5", 950)]
    [InlineData("euc-kr", 51949)]
    [InlineData("windows-1252", 1252)]
    [InlineData("iso-8859-1", 28591)]
    [InlineData("us-ascii", 20127)]
    public void Known_ascii_compatible_names_resolve(string name, int codePage) =>
        Assert.Equal(codePage, TextEncodings.Resolve(name).CodePage);

    [Theory]
    [InlineData("utf-16")]
    [InlineData("utf-32")]
    [InlineData("iso-2022-jp")]
    [InlineData("hz-gb-2312")]
    [InlineData("ibm037")]
    public void Encodings_that_are_not_ascii_compatible_are_refused_with_a_one_line_message(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => TextEncodings.Resolve(name));
        Assert.Contains("not ASCII-compatible", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Theory]
    [InlineData("klingon")]
    [InlineData("")]
    public void Unknown_names_are_refused_with_a_one_line_message(string name)
    {
        var error = Assert.Throws<ArgumentException>(() => TextEncodings.Resolve(name));
        Assert.StartsWith("unknown text-encoding", error.Message);
        Assert.DoesNotContain('\n', error.Message);
    }

    [Fact]
    public void Utf7_is_refused_as_not_supported() =>
        Assert.Equal("text-encoding 'utf-7' is not supported", Assert.Throws<ArgumentException>(() => TextEncodings.Resolve("utf-7")).Message);

    [Theory]
    [InlineData("utf-8")]
    [InlineData("gbk")]
    [InlineData("shift_jis")]
    public void Invalid_bytes_decode_as_u_fffd_and_unencodable_text_never_throws(string name)
    {
        Encoding encoding = TextEncodings.Resolve(name);
        string decoded = encoding.GetString([0x81, 0xFF, 0xC3]);
        Assert.Contains('\uFFFD', decoded);
        _ = encoding.GetBytes("\uD800 😀 \u0378");
    }

    [Fact]
    public void Utf8_resolves_without_a_byte_order_mark() =>
        Assert.Empty(TextEncodings.Resolve("utf-8").GetPreamble());
}
