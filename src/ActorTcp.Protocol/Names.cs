// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>The rules for a user's name (PROTOCOL.md "The name dialog").</summary>
public static class Names
{
    internal const int MaxCodePoints = 32;

    // Commands of the name dialog: a user who types one means the command, so it can never be a name.
    private static readonly string[] Reserved = ["exit", "quit", "ping", "heartbeat"];

    private enum Kind
    {
        Letter,
        Mark,
        Other,
        Forbidden,
    }

    /// <summary>
    /// Trims spaces and tabs, normalizes to NFC and checks the result: 1 to 32 code points, each a letter, a
    /// combining mark following a letter (possibly through other marks), a decimal digit, '_', '-' or '.', and
    /// not one of the dialog's commands. On failure <paramref name="reason"/> is short lower-case text.
    /// </summary>
    public static bool TryValidate(
        string raw,
        [NotNullWhen(true)] out string? name,
        [NotNullWhen(false)] out string? reason)
    {
        name = null;
        ReadOnlySpan<char> trimmed = (raw ?? string.Empty).AsSpan().Trim(" \t");
        if (trimmed.IsEmpty)
        {
            reason = "empty";
            return false;
        }

        // Characters are checked before normalizing too: NFC keeps letters, marks and digits what they are, and
        // Normalize throws on some code points (lone surrogates, noncharacters) that this turns away first.
        if (!OnlyAllowedCharacters(trimmed, out reason))
        {
            return false;
        }

        string normalized = trimmed.ToString().Normalize(NormalizationForm.FormC);
        int count = 0;
        bool afterLetter = false;
        foreach (Rune rune in normalized.EnumerateRunes())
        {
            if (++count > MaxCodePoints)
            {
                reason = $"too long (max {MaxCodePoints} characters)";
                return false;
            }

            switch (Classify(rune))
            {
                case Kind.Letter:
                    afterLetter = true;
                    break;
                case Kind.Mark when !afterLetter:
                    reason = "a combining mark must follow a letter";
                    return false;
                case Kind.Mark:
                    break;
                case Kind.Other:
                    afterLetter = false;
                    break;
                default:
                    reason = NotAllowed(rune);
                    return false;
            }
        }

        foreach (string word in Reserved)
        {
            if (normalized.Equals(word, StringComparison.OrdinalIgnoreCase))
            {
                reason = $"'{word}' is a command, not a name";
                return false;
            }
        }

        name = normalized;
        reason = null;
        return true;
    }

    private static bool OnlyAllowedCharacters(ReadOnlySpan<char> text, [NotNullWhen(false)] out string? reason)
    {
        while (!text.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(text, out Rune rune, out int used) != OperationStatus.Done)
            {
                reason = "not valid unicode";
                return false;
            }

            if (Classify(rune) == Kind.Forbidden)
            {
                reason = NotAllowed(rune);
                return false;
            }

            text = text[used..];
        }

        reason = null;
        return true;
    }

    private static Kind Classify(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => Kind.Letter,
        UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
            or UnicodeCategory.EnclosingMark => Kind.Mark,
        UnicodeCategory.DecimalDigitNumber => Kind.Other,
        _ when rune.Value is '_' or '-' or '.' => Kind.Other,
        _ => Kind.Forbidden,
    };

    private static string NotAllowed(Rune rune) => rune.Value is ' ' or '\t'
        ? "spaces are not allowed"
        : $"character U+{rune.Value:X4} is not allowed";
}
