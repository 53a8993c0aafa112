using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>The rules for a user's name (PROTOCOL.md "The name dialog").</summary>
public static class Names
{
    public const int MaxCodePoints = 32;

    // Commands of the name dialog: a user who types one means the command, so it can never be a name.
    private static readonly string[] Reserved = ["exit", "quit", "ping", "heartbeat"];

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

        // Normalize throws on a lone surrogate; a name decoded from bytes never has one, but a caller's string might.
        if (!IsValidUtf16(trimmed))
        {
            reason = "not valid unicode";
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

            switch (Rune.GetUnicodeCategory(rune))
            {
                case UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter
                    or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter:
                    afterLetter = true;
                    break;

                case UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark
                    or UnicodeCategory.EnclosingMark:
                    if (!afterLetter)
                    {
                        reason = "a combining mark must follow a letter";
                        return false;
                    }

                    break;

                case UnicodeCategory.DecimalDigitNumber:
                    afterLetter = false;
                    break;

                default:
                    if (rune.Value is '_' or '-' or '.')
                    {
                        afterLetter = false;
                        break;
                    }

                    reason = rune.Value is ' ' or '\t'
                        ? "spaces are not allowed"
                        : $"character U+{rune.Value:X4} is not allowed";
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

    private static bool IsValidUtf16(ReadOnlySpan<char> text)
    {
        while (!text.IsEmpty)
        {
            if (Rune.DecodeFromUtf16(text, out _, out int used) != System.Buffers.OperationStatus.Done)
            {
                return false;
            }

            text = text[used..];
        }

        return true;
    }
}
