using System.Numerics;
using System.Text;
using CsCheck;
using Xunit;

namespace ActorTcp.Protocol.Tests;

public sealed class ParserPropertyTests
{
    private const int Iterations = 10_000;

    private static readonly Gen<byte[]> LineBytes = Gen.Frequency(
        (4, Gen.Byte),
        (4, Gen.OneOf<byte>((byte)' ', (byte)'\t', (byte)'p', (byte)'I', (byte)'n', (byte)'G', (byte)'e', (byte)'c', (byte)'h', (byte)'o')))
        .Array[0, 40];

    private static readonly Gen<string> ArgumentText = Gen.Frequency(
        (3, Gen.Char),
        (4, Gen.Char[" \t\"\\ab0-"]))
        .Array[0, 40]
        .Select(chars => new string(chars));

    // Valid text of any code points (no lone surrogates), as names and paths are.
    private static readonly Gen<string> ValidText = Gen.Frequency(
            (3, Gen.Int[0x20, 0x7E]),
            (2, Gen.Int[0x80, 0xD7FF]),
            (1, Gen.Int[0xE000, 0xFFFF]),
            (1, Gen.Int[0x10000, 0x10FFFF]))
        .Array[0, 12]
        .Select(points => string.Concat(points.Select(p => new Rune(p).ToString())));

    [Fact]
    public void Parser_never_throws_and_its_positions_lie_inside_the_line() =>
        LineBytes.Sample(line =>
        {
            ParsedRequest parsed = RequestParser.Parse(line);
            Assert.InRange(parsed.VerbStart, 0, line.Length);
            Assert.InRange(parsed.VerbStart + parsed.VerbLength, parsed.VerbStart, line.Length);
            Assert.InRange(parsed.ArgsStart, parsed.VerbStart + parsed.VerbLength, line.Length);
            Assert.Equal(parsed.Verb == Verb.Blank, line.All(b => b is (byte)' ' or (byte)'\t'));
        }, iter: Iterations);

    [Fact]
    public void Splitting_arguments_never_throws_and_never_yields_a_bare_token_with_a_separator() =>
        ArgumentText.Sample(text =>
        {
            var tokens = new List<string>();
            if (Arguments.TrySplit(text, tokens, out string? error))
            {
                Assert.Null(error);
                Assert.All(tokens, t => Assert.True(t.Length == 0 || text.Contains(t) || text.Contains('"')));
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(error));
                Assert.Empty(tokens);
            }
        }, iter: Iterations);

    [Fact]
    public void Any_non_empty_path_written_by_quote_path_splits_back_to_itself() =>
        Gen.Frequency((3, Gen.Char), (2, Gen.Char[" \t\"\\x"])).Array[1, 20].Select(c => new string(c)).Sample(path =>
        {
            var tokens = new List<string>();
            Assert.True(Arguments.TrySplit(Arguments.QuotePath(path), tokens, out _));
            Assert.Equal([path], tokens);
        }, iter: Iterations);

    [Fact]
    public void Number_parsing_never_throws_and_accepts_exactly_plain_digits_up_to_long_max_value() =>
        Gen.Frequency((2, Gen.Char), (5, Gen.Char["0123456789"]), (1, Gen.Char["+- 9"]))
            .Array[0, 25].Select(c => new string(c)).Sample(text =>
            {
                bool expected = text.Length > 0 && text.All(char.IsAsciiDigit) && BigInteger.Parse(text) <= long.MaxValue;
                Assert.Equal(expected, Arguments.TryParseNumber(text, out long value));
                if (expected)
                {
                    Assert.Equal(BigInteger.Parse(text), value);
                }
            }, iter: Iterations);

    [Fact]
    public void Every_non_negative_long_round_trips_through_number_parsing() =>
        Gen.Long[0, long.MaxValue].Sample(n =>
        {
            Assert.True(Arguments.TryParseNumber(n.ToString(System.Globalization.CultureInfo.InvariantCulture), out long value));
            Assert.Equal(n, value);
        }, iter: Iterations);

    [Fact]
    public void Name_validation_never_throws_and_a_valid_name_is_nfc_and_revalidates_to_itself() =>
        Gen.Frequency((1, Gen.String), (2, ValidText)).Sample(raw =>
        {
            if (Names.TryValidate(raw, out string? name, out _))
            {
                Assert.True(name.IsNormalized(NormalizationForm.FormC));
                Assert.InRange(name.EnumerateRunes().Count(), 1, Names.MaxCodePoints);
                Assert.True(Names.TryValidate(name, out string? again, out _));
                Assert.Equal(name, again);
            }
        }, iter: Iterations);

    [Fact]
    public void Utf8_order_agrees_with_comparing_utf8_bytes() =>
        Gen.Select(ValidText, ValidText).Sample((x, y) =>
        {
            int expected = Math.Sign(Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(Encoding.UTF8.GetBytes(y)));
            Assert.Equal(expected, Math.Sign(Utf8Order.Instance.Compare(x, y)));
            Assert.Equal(-expected, Math.Sign(Utf8Order.Instance.Compare(y, x)));
        }, iter: Iterations);
}
