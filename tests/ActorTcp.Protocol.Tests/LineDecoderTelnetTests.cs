using Xunit;
using static ActorTcp.Protocol.Telnet;

namespace ActorTcp.Protocol.Tests;

public sealed class LineDecoderTelnetTests : LineDecoderTestBase
{
    [Fact]
    public void Iac_iac_is_one_literal_255_data_byte() =>
        Assert.Equal(Requests("a\u00FFb"), Decode("a", Iac, Iac, "b\n"));

    [Fact]
    public void Will_wont_do_dont_and_their_option_byte_are_removed() =>
        Assert.Equal(
            Requests("abcde"),
            Decode("a", Iac, Will, 1, "b", Iac, Wont, 3, "c", Iac, Do, 24, "d", Iac, Dont, 31, "e\n"));

    [Fact]
    public void Option_byte_of_a_negotiation_is_removed_even_when_it_is_lf_or_iac() =>
        Assert.Equal(Requests("ab"), Decode("a", Iac, Will, '\n', Iac, Do, Iac, "b\n"));

    [Fact]
    public void Do_timing_mark_is_removed_and_reported_where_it_stands_in_the_stream() =>
        Assert.Equal(
            [Decoded.Request("one"), Decoded.TimingMark, Decoded.Request("two")],
            Decode("one\n", Iac, Do, TimingMark, "two\n"));

    [Fact]
    public void Timing_mark_in_the_middle_of_a_line_comes_before_that_line() =>
        Assert.Equal([Decoded.TimingMark, Decoded.Request("abcd")], Decode("ab", Iac, Do, TimingMark, "cd\n"));

    [Fact]
    public void Ctrl_c_from_a_telnet_client_yields_only_a_timing_mark() =>
        Assert.Equal([Decoded.TimingMark], Decode(Iac, InterruptProcess, Iac, Do, TimingMark));

    [Theory]
    [InlineData(Will)]
    [InlineData(Wont)]
    [InlineData(Dont)]
    public void Other_negotiations_of_timing_mark_are_removed_without_an_event(byte command) =>
        Assert.Equal(Requests("ab"), Decode("a", Iac, command, TimingMark, "b\n"));

    [Fact]
    public void Timing_mark_between_cr_and_lf_comes_first_and_the_crlf_still_ends_the_line() =>
        Assert.Equal([Decoded.TimingMark, Decoded.Request("a")], Decode("a\r", Iac, Do, TimingMark, "\n"));

    [Fact]
    public void Timing_mark_between_cr_nul_and_lf_comes_after_the_line_and_the_lf_is_still_dropped() =>
        Assert.Equal(
            [Decoded.Request("a"), Decoded.TimingMark, Decoded.Request("b")],
            Decode("a\r\0", Iac, Do, TimingMark, "\nb\n"));

    [Fact]
    public void Subnegotiation_is_removed_up_to_and_including_iac_se() =>
        Assert.Equal(Requests("ab"), Decode("a", Iac, Sb, 24, 0, "xterm", Iac, Se, "b\n"));

    [Fact]
    public void Iac_iac_inside_a_subnegotiation_does_not_end_it() =>
        Assert.Equal(Requests("ab"), Decode("a", Iac, Sb, 1, Iac, Iac, 2, Iac, Se, "b\n"));

    [Fact]
    public void Lf_inside_a_subnegotiation_does_not_end_a_line() =>
        Assert.Equal(Requests("ac"), Decode("a", Iac, Sb, 1, "x\ny", Iac, Se, "c\n"));

    [Fact]
    public void Subnegotiation_whose_se_is_the_64th_byte_after_sb_ends_normally() =>
        Assert.Equal(Requests("b"), Decode(Iac, Sb, new string('x', 62), Iac, Se, "b\n"));

    [Fact]
    public void Subnegotiation_without_se_within_64_bytes_swallows_exactly_64_bytes_after_sb() =>
        Assert.Equal(Requests("yz"), Decode(Iac, Sb, new string('x', 64), "yz\n"));

    [Fact]
    public void Subnegotiation_cut_at_64_bytes_lets_a_line_end_in_the_65th_byte_end_the_line() =>
        Assert.Equal(Requests("a", "b"), Decode("a", Iac, Sb, new string('x', 64), "\nb\n"));

    [Fact]
    public void Se_arriving_as_the_65th_byte_is_too_late_and_is_read_as_data() =>
        Assert.Equal(Requests("\u00F0b"), Decode(Iac, Sb, new string('x', 63), Iac, Se, "b\n"));

    [Fact]
    public void Subnegotiation_split_across_many_spans_is_still_removed() =>
        Assert.Equal(
            Requests("ab"),
            Drive.Chunks(new LineDecoder(4096, Utf8), [Wire.Of("a", Iac), Wire.Of(Sb, 24), Wire.Of(0, "vt", Iac), Wire.Of(Se, "b\n")]));

    [Theory]
    [InlineData(Se)]
    [InlineData(Nop)]
    [InlineData(DataMark)]
    [InlineData(Break)]
    [InlineData(InterruptProcess)]
    [InlineData(AbortOutput)]
    [InlineData(AreYouThere)]
    [InlineData(EraseCharacter)]
    [InlineData(EraseLine)]
    [InlineData(GoAhead)]
    public void Two_byte_commands_240_to_249_are_removed(byte command) =>
        Assert.Equal(Requests("ab"), Decode("a", Iac, command, "b\n"));

    [Theory]
    [InlineData(0)]
    [InlineData(120)]
    [InlineData(6)]
    [InlineData(200)]
    [InlineData(239)]
    public void Iac_followed_by_a_byte_below_240_keeps_both_bytes_as_data(int next) =>
        Assert.Equal(Requests("a\u00FF" + (char)next + "b"), Decode("a", Iac, next, "b\n"));

    [Fact]
    public void Iac_followed_by_lf_keeps_the_255_and_the_lf_ends_the_line() =>
        Assert.Equal(Requests("a\u00FF", "b"), Decode("a", Iac, "\nb\n"));

    [Fact]
    public void Iac_followed_by_cr_lf_keeps_the_255_and_the_crlf_ends_the_line() =>
        Assert.Equal(Requests("a\u00FF"), Decode("a", Iac, "\r\n"));

    [Fact]
    public void Telnet_command_between_cr_and_lf_leaves_a_crlf_line_end() =>
        Assert.Equal(Requests("a"), Decode("a\r", Iac, Nop, "\n"));

    [Fact]
    public void Telnet_command_between_cr_and_nul_leaves_a_cr_nul_line_end() =>
        Assert.Equal(Requests("a", "b"), Decode("a\r", Iac, Will, 1, "\0\nb\n"));

    [Fact]
    public void Timing_mark_is_still_reported_while_a_too_long_line_is_discarded() =>
        Assert.Equal(
            [Decoded.TooLong, Decoded.TimingMark, Decoded.Request("ok")],
            Decode(Wire.Of("abcdef", Iac, Do, TimingMark, "gh\nok\n"), max: 3));
}
