// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>Turns the <c>text-encoding</c> setting into an <see cref="Encoding"/> the text listener can rely on.</summary>
public static class TextEncodings
{
    // Byte sequences that switch a stateful encoding (ISO-2022-JP, ISO-2022-KR, HZ) into another character set:
    // line splitting and command parsing work on ASCII bytes, so ASCII bytes must mean ASCII whatever came before.
    private static readonly byte[][] ShiftSequences =
    [
        [0x1B, (byte)'$', (byte)'B', (byte)'A', (byte)'B'],
        [0x0E, (byte)'A', (byte)'B', 0x0F],
        [(byte)'~', (byte)'{', (byte)'A', (byte)'B', (byte)'~', (byte)'}'],
    ];

    static TextEncodings() => Encoding.RegisterProvider(CodePagesEncodingProvider.Instance);

    /// <summary>
    /// Resolves a setting such as <c>utf-8</c> or <c>gbk</c>. The result decodes invalid bytes as U+FFFD and encodes
    /// characters it cannot represent as <c>?</c> (U+FFFD for UTF-8), so it never throws on what clients send.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown name, or an encoding in which ASCII bytes are not ASCII.</exception>
    public static Encoding Resolve(string name)
    {
        string trimmed = (name ?? string.Empty).Trim();
        if (trimmed.Equals("utf-8", StringComparison.OrdinalIgnoreCase)
            || trimmed.Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);
        }

        Encoding encoding;
        try
        {
            encoding = Encoding.GetEncoding(
                trimmed,
                new EncoderReplacementFallback("?"),
                new DecoderReplacementFallback("\uFFFD"));
        }
        catch (ArgumentException)
        {
            throw Invalid($"unknown text-encoding '{trimmed}'");
        }
        catch (NotSupportedException)
        {
            // UTF-7: known to .NET but switched off, and it would not be ASCII-compatible anyway.
            throw Invalid($"text-encoding '{trimmed}' is not supported");
        }

        if (!IsAsciiCompatible(encoding))
        {
            throw Invalid($"text-encoding '{trimmed}' is not ASCII-compatible (ASCII bytes must stay ASCII)");
        }

        return encoding;
    }

    // The message alone, without ArgumentException's "(Parameter ...)" suffix, since it is shown to the operator as is.
    private static ArgumentException Invalid(string message) => new(message);

    private static bool IsAsciiCompatible(Encoding encoding)
    {
        Span<byte> one = stackalloc byte[1];
        Span<char> chars = stackalloc char[8];
        Span<byte> bytes = stackalloc byte[8];
        Span<char> decoded = stackalloc char[16];
        for (int b = 0; b < 128; b++)
        {
            one[0] = (byte)b;
            if (encoding.GetChars(one, chars) != 1 || chars[0] != (char)b)
            {
                return false;
            }

            if (encoding.GetBytes([(char)b], bytes) != 1 || bytes[0] != b)
            {
                return false;
            }
        }

        foreach (byte[] sequence in ShiftSequences)
        {
            if (encoding.GetCharCount(sequence) != sequence.Length)
            {
                return false;
            }

            int count = encoding.GetChars(sequence, decoded);
            for (int i = 0; i < count; i++)
            {
                if (decoded[i] != (char)sequence[i])
                {
                    return false;
                }
            }
        }

        return true;
    }
}
