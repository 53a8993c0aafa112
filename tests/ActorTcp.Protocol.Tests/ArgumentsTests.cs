using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class ArgumentsTests
{
    private static List<string> Split(string text)
    {
        var tokens = new List<string>();
        Assert.True(Arguments.TrySplit(text, tokens, out string? error), error);
        Assert.Null(error);
        return tokens;
    }

    private static string SplitFails(string text)
    {
        var tokens = new List<string> { "left over" };
        Assert.False(Arguments.TrySplit(text, tokens, out string? error));
        Assert.Empty(tokens);
        return Assert.IsType<string>(error);
    }

    [Fact]
    public void Tokens_are_separated_by_runs_of_spaces_and_tabs() =>
        Assert.Equal(["a.txt", "0", "10"], Split("  a.txt \t 0\t\t10  "));

    [Fact]
    public void Empty_text_has_no_tokens() =>
        Assert.Empty(Split(" \t "));

    [Fact]
    public void A_quoted_token_keeps_its_spaces() =>
        Assert.Equal(["my file.txt", "0", "10"], Split("\"my file.txt\" 0 10"));

    [Fact]
    public void Escaped_quote_and_backslash_inside_quotes_are_unescaped() =>
        Assert.Equal(["say \"hi\"\\now"], Split("\"say \\\"hi\\\"\\\\now\""));

    [Fact]
    public void An_empty_quoted_token_is_an_empty_string() =>
        Assert.Equal(["", "x"], Split("\"\" x"));

    [Fact]
    public void Quotes_and_backslashes_inside_a_bare_token_are_ordinary_characters() =>
        Assert.Equal(["a\"b", "c\\d"], Split("a\"b c\\d"));

    [Fact]
    public void The_list_is_cleared_before_splitting_so_it_can_be_reused()
    {
        var tokens = new List<string> { "old" };
        Assert.True(Arguments.TrySplit("x", tokens, out _));
        Assert.Equal(["x"], tokens);
    }

    [Theory]
    [InlineData("\"abc")]
    [InlineData("a \"b c")]
    [InlineData("\"abc\\\"")]
    [InlineData("\"abc\\")]
    public void An_unterminated_quote_fails(string text) =>
        Assert.Equal("unterminated quote", SplitFails(text));

    [Theory]
    [InlineData("\"a\\nb\"")]
    [InlineData("\"a\\tb\"")]
    [InlineData("\"\\x\"")]
    public void An_escape_other_than_quote_or_backslash_fails(string text) =>
        Assert.StartsWith("bad escape", SplitFails(text));

    [Fact]
    public void Text_glued_to_a_closing_quote_fails() =>
        Assert.Equal("missing space after closing quote", SplitFails("\"a b\"c"));

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("42", 42L)]
    [InlineData("007", 7L)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("0000000000000000000000009223372036854775807", long.MaxValue)]
    public void Numbers_are_ascii_digits_within_63_bits(string text, long value)
    {
        Assert.True(Arguments.TryParseNumber(text, out long parsed));
        Assert.Equal(value, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("9223372036854775808")]
    [InlineData("99999999999999999999")]
    [InlineData("+1")]
    [InlineData("-1")]
    [InlineData("-0")]
    [InlineData(" 1")]
    [InlineData("1 ")]
    [InlineData("1.0")]
    [InlineData("1e3")]
    [InlineData("0x10")]
    [InlineData("١٢")]
    [InlineData("１")]
    public void Anything_but_plain_digits_within_63_bits_is_not_a_number(string text) =>
        Assert.False(Arguments.TryParseNumber(text, out _));

    [Theory]
    [InlineData("a.txt", "a.txt")]
    [InlineData("dir/b.bin", "dir/b.bin")]
    [InlineData("张三.txt", "张三.txt")]
    [InlineData("my file.txt", "\"my file.txt\"")]
    [InlineData("tab\there", "\"tab\there\"")]
    [InlineData("say\"hi", "\"say\\\"hi\"")]
    [InlineData("back\\slash", "\"back\\\\slash\"")]
    public void Paths_are_quoted_only_when_they_hold_a_space_tab_quote_or_backslash(string path, string written) =>
        Assert.Equal(written, Arguments.QuotePath(path));

    [Theory]
    [InlineData("my file.txt")]
    [InlineData("a \"quoted\" \\ path")]
    [InlineData("\"")]
    public void A_quoted_path_splits_back_into_the_same_path(string path) =>
        Assert.Equal([path], Split(Arguments.QuotePath(path)));
}
