// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>Arguments of a command (PROTOCOL.md "Command mode" and "Paths").</summary>
public static class Arguments
{
    private static readonly SearchValues<char> NeedsQuotes = SearchValues.Create(" \t\"\\");
    private static readonly SearchValues<char> QuoteOrEscape = SearchValues.Create("\"\\");

    /// <summary>
    /// Splits argument text at runs of spaces and tabs into <paramref name="tokens"/> (cleared first, so one list can
    /// be reused). A token that starts with a double quote runs to the closing quote, with <c>\"</c> and <c>\\</c> as
    /// its only escapes. False, with a short lower-case <paramref name="error"/> and no tokens, on an unterminated
    /// quote, another escape, or text glued to a closing quote.
    /// </summary>
    public static bool TrySplit(string text, List<string> tokens, out string? error)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(tokens);
        tokens.Clear();
        int i = 0;
        while (true)
        {
            while (i < text.Length && IsSeparator(text[i]))
            {
                i++;
            }

            if (i == text.Length)
            {
                error = null;
                return true;
            }

            string? token;
            if (text[i] == '"')
            {
                token = ReadQuoted(text, ref i, out error);
                if (token is null)
                {
                    tokens.Clear();
                    return false;
                }

                // `"a b"c` could mean `a bc` or two tokens; a user who wrote it most likely mistyped, so say so.
                if (i < text.Length && !IsSeparator(text[i]))
                {
                    tokens.Clear();
                    error = "missing space after closing quote";
                    return false;
                }
            }
            else
            {
                // Quotes and backslashes inside a bare token are ordinary characters: only a leading quote quotes.
                int start = i;
                while (i < text.Length && !IsSeparator(text[i]))
                {
                    i++;
                }

                token = text[start..i];
            }

            tokens.Add(token);
        }
    }

    /// <summary>A number: ASCII digits only (leading zeros allowed), no sign, at most <see cref="long.MaxValue"/>.</summary>
    public static bool TryParseNumber(string text, out long value)
    {
        value = 0;
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        long result = 0;
        foreach (char c in text)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            int digit = c - '0';
            if (result > (long.MaxValue - digit) / 10)
            {
                return false;
            }

            result = (result * 10) + digit;
        }

        value = result;
        return true;
    }

    /// <summary>
    /// A path as LIST and error messages write it: in double quotes, with <c>\"</c> and <c>\\</c>, when it holds a
    /// space, tab, quote or backslash, so that it can be pasted back into a request; otherwise bare.
    /// </summary>
    public static string QuotePath(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (path.AsSpan().IndexOfAny(NeedsQuotes) < 0)
        {
            return path;
        }

        var quoted = new StringBuilder(path.Length + 8);
        quoted.Append('"');
        foreach (char c in path)
        {
            if (c is '"' or '\\')
            {
                quoted.Append('\\');
            }

            quoted.Append(c);
        }

        return quoted.Append('"').ToString();
    }

    private static bool IsSeparator(char c) => c is ' ' or '\t';

    // On entry text[i] is the opening quote; on success i is just past the closing quote.
    private static string? ReadQuoted(string text, ref int i, out string? error)
    {
        int start = i + 1;
        ReadOnlySpan<char> rest = text.AsSpan(start);
        int special = rest.IndexOfAny(QuoteOrEscape);
        if (special >= 0 && rest[special] == '"')
        {
            // Common case, no escapes: one substring.
            i = start + special + 1;
            error = null;
            return text.Substring(start, special);
        }

        var token = new StringBuilder(rest.Length);
        for (int j = start; j < text.Length; j++)
        {
            char c = text[j];
            if (c == '"')
            {
                i = j + 1;
                error = null;
                return token.ToString();
            }

            if (c == '\\')
            {
                j++;
                if (j == text.Length)
                {
                    break;
                }

                if (text[j] is not ('"' or '\\'))
                {
                    error = "bad escape in quotes (only \\\" and \\\\ are allowed)";
                    return null;
                }

                c = text[j];
            }

            token.Append(c);
        }

        error = "unterminated quote";
        return null;
    }
}
