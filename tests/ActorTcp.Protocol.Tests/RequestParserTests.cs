using System.Text;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class RequestParserTests
{
    private static ParsedRequest Parse(string line) => RequestParser.Parse(Encoding.UTF8.GetBytes(line));

    private static string Args(string line) => line[Parse(line).ArgsStart..];

    [Theory]
    [InlineData("PING", Verb.Ping)]
    [InlineData("ping", Verb.Ping)]
    [InlineData("PiNg", Verb.Ping)]
    [InlineData("HEARTBEAT", Verb.Heartbeat)]
    [InlineData("echo", Verb.Echo)]
    [InlineData("Who", Verb.Who)]
    [InlineData("list", Verb.List)]
    [InlineData("get", Verb.Get)]
    [InlineData("stats", Verb.Stats)]
    [InlineData("help", Verb.Help)]
    [InlineData("quit", Verb.Quit)]
    [InlineData("EXIT", Verb.Quit)]
    public void Verbs_are_matched_ascii_case_insensitively(string line, Verb verb) =>
        Assert.Equal(verb, Parse(line).Verb);

    [Theory]
    [InlineData("PINGX")]
    [InlineData("PIN")]
    [InlineData("P\u0130NG")]
    [InlineData("ＰＩＮＧ")]
    [InlineData("PING\r")]
    [InlineData("\u00FFPING")]
    public void Anything_else_is_unknown(string line) =>
        Assert.Equal(Verb.Unknown, Parse(line).Verb);

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("\t \t")]
    public void Empty_or_only_spaces_and_tabs_is_blank(string line)
    {
        ParsedRequest parsed = Parse(line);
        Assert.Equal(Verb.Blank, parsed.Verb);
        Assert.Equal(line.Length, parsed.ArgsStart);
        Assert.Equal(0, parsed.VerbLength);
    }

    [Fact]
    public void Leading_spaces_and_tabs_are_skipped() =>
        Assert.Equal(new ParsedRequest(Verb.Ping, 3, 4, 7), Parse(" \t PING"));

    [Fact]
    public void Arguments_a_command_does_not_take_do_not_change_its_verb() =>
        Assert.Equal(Verb.Ping, Parse("PING now").Verb);

    [Fact]
    public void Unknown_verb_position_points_at_the_verb_as_the_client_wrote_it()
    {
        ParsedRequest parsed = Parse("  Frobnicate the thing");
        Assert.Equal(new ParsedRequest(Verb.Unknown, 2, 10, 13), parsed);
        Assert.Equal("Frobnicate", "  Frobnicate the thing".Substring(parsed.VerbStart, parsed.VerbLength));
    }

    [Fact]
    public void Unknown_verb_with_non_ascii_bytes_keeps_its_byte_position()
    {
        byte[] line = Encoding.UTF8.GetBytes(" 张三 x");
        ParsedRequest parsed = RequestParser.Parse(line);
        Assert.Equal((Verb.Unknown, 1, 6, 8), (parsed.Verb, parsed.VerbStart, parsed.VerbLength, parsed.ArgsStart));
    }

    [Theory]
    [InlineData("ECHO hello world", "hello world")]
    [InlineData("ECHO  two spaces kept", " two spaces kept")]
    [InlineData("ECHO\ttab then text\t", "tab then text\t")]
    [InlineData("ECHO \t mixed", "\t mixed")]
    [InlineData("ECHO ", "")]
    [InlineData("ECHO", "")]
    [InlineData("  echo x", "x")]
    public void Echo_arguments_start_right_after_the_first_space_or_tab_after_the_verb(string line, string text) =>
        Assert.Equal(text, Args(line));
}
