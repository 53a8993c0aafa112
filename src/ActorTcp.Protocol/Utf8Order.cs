// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Protocol;

/// <summary>
/// Orders strings by their UTF-8 bytes, which is code point order (WHO and LIST promise it). Ordinal order differs:
/// it compares UTF-16 code units, where a surrogate pair (U+10000 and up) sorts before U+E000..U+FFFF.
/// </summary>
public sealed class Utf8Order : IComparer<string>
{
    private Utf8Order()
    {
    }

    public static Utf8Order Instance { get; } = new();

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }

        if (x is null)
        {
            return -1;
        }

        if (y is null)
        {
            return 1;
        }

        // No transcoding: the strings agree up to the first differing code unit, and only there can surrogates
        // change the answer.
        int common = x.AsSpan().CommonPrefixLength(y);
        if (common == x.Length || common == y.Length)
        {
            return x.Length.CompareTo(y.Length);
        }

        return Rank(x[common]).CompareTo(Rank(y[common]));
    }

    // Moves surrogates (D800..DFFF) above E000..FFFF, keeping everything else in order. For valid text this is
    // exactly code point order; a lone surrogate (never in a name or a listed path) still gets one consistent place.
    private static int Rank(char c) => c switch
    {
        < '\uD800' => c,
        >= '\uE000' => c - 0x800,
        _ => c + 0x2000,
    };
}
