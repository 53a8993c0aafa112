using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class NamesTests
{
    private static string Valid(string raw)
    {
        Assert.True(Names.TryValidate(raw, out string? name, out string? reason), reason);
        Assert.Null(reason);
        return name;
    }

    private static string Invalid(string raw)
    {
        Assert.False(Names.TryValidate(raw, out string? name, out string? reason));
        Assert.Null(name);
        Assert.Equal(reason.ToLowerInvariant()[..1], reason[..1]);
        return reason;
    }

    [Theory]
    [InlineData("张三")]
    [InlineData("José")]
    [InlineData("alice")]
    [InlineData("Ólafur_Arnalds-2.0")]
    [InlineData("42")]
    [InlineData("٣٤")]
    [InlineData("ผู้ใช้")]
    [InlineData("नमस्ते")]
    [InlineData("Ωμέγα")]
    [InlineData("_")]
    public void Letters_marks_after_letters_digits_underscore_dash_and_dot_make_a_name(string raw) =>
        Assert.Equal(raw, Valid(raw));

    [Fact]
    public void Spaces_and_tabs_around_a_name_are_trimmed() =>
        Assert.Equal("Bob", Valid(" \t Bob\t "));

    [Fact]
    public void A_name_is_normalized_to_nfc() =>
        Assert.Equal("Jos\u00E9", Valid("Jose\u0301"));

    [Fact]
    public void A_combining_mark_after_a_letter_that_does_not_compose_is_kept() =>
        Assert.Equal("q\u0301\u0302", Valid("q\u0301\u0302"));

    [Theory]
    [InlineData("\u0301abc")]
    [InlineData("1\u0301")]
    [InlineData("a_\u0301")]
    public void A_combining_mark_not_after_a_letter_is_rejected(string raw) =>
        Assert.Equal("a combining mark must follow a letter", Invalid(raw));

    [Fact]
    public void Thirty_two_code_points_after_nfc_are_allowed_even_when_typed_decomposed() =>
        Assert.Equal(string.Concat(Enumerable.Repeat("\u00E9", 32)), Valid(string.Concat(Enumerable.Repeat("e\u0301", 32))));

    [Fact]
    public void Thirty_three_code_points_after_nfc_are_too_long() =>
        Assert.Equal("too long (max 32 characters)", Invalid(string.Concat(Enumerable.Repeat("e\u0301", 33))));

    [Fact]
    public void Thirty_two_astral_letters_count_as_32_code_points_not_64_utf16_units() =>
        Assert.Equal(64, Valid(string.Concat(Enumerable.Repeat("\U00020000", 32))).Length);

    [Theory]
    [InlineData("exit")]
    [InlineData("QUIT")]
    [InlineData("Ping")]
    [InlineData("heartBEAT")]
    [InlineData(" exit ")]
    public void Dialog_commands_in_any_case_are_not_names(string raw) =>
        Assert.Contains("is a command", Invalid(raw));

    [Theory]
    [InlineData("exits")]
    [InlineData("pinger")]
    public void Words_that_only_start_like_a_command_are_names(string raw) =>
        Assert.Equal(raw, Valid(raw));

    [Theory]
    [InlineData("😀")]
    [InlineData("bob😀")]
    [InlineData("a+b")]
    [InlineData("a@b")]
    [InlineData("a/b")]
    [InlineData("a\u200Db")]
    [InlineData("a\u0000b")]
    [InlineData("Ⅻ")]
    public void Other_characters_such_as_emoji_are_rejected(string raw) =>
        Assert.Contains("is not allowed", Invalid(raw));

    [Fact]
    public void A_space_inside_a_name_is_rejected() =>
        Assert.Equal("spaces are not allowed", Invalid("Bob Smith"));

    [Theory]
    [InlineData("")]
    [InlineData(" \t ")]
    public void An_empty_or_blank_name_is_rejected(string raw) =>
        Assert.Equal("empty", Invalid(raw));

    [Fact]
    public void A_lone_surrogate_is_rejected_without_throwing() =>
        Assert.Equal("not valid unicode", Invalid("ab\uD800"));

    // Regression, found by the property test: string.Normalize throws on noncharacters such as U+FFFE and
    // U+FFFF, so a client could crash its own session by sending one as its name.
    [Theory]
    [InlineData("a\uFFFE")]
    [InlineData("\uFFFF")]
    [InlineData("neo\uFDD0")]
    public void A_noncharacter_in_a_name_is_an_invalid_name_not_an_exception(string raw) =>
        Assert.StartsWith("character U+", Invalid(raw));
}
