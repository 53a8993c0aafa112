// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Collections.Concurrent;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>
/// Finds where the last character of a partial line starts, so BS/DEL can erase a whole character in the line's
/// text-encoding rather than one byte of it.
/// </summary>
internal abstract class CharacterEraser
{
    // Lead-byte tables cost tens of thousands of decoder calls to build and never change, so one per code page.
    private static readonly ConcurrentDictionary<int, LeadByteEraser?> LeadByteErasers = new();

    /// <summary>The index where the last character of a non-empty <paramref name="line"/> starts.</summary>
    public abstract int StartOfLast(ReadOnlySpan<byte> line);

    public static CharacterEraser For(Encoding encoding)
    {
        if (encoding.CodePage == Encoding.UTF8.CodePage)
        {
            return Utf8Eraser.Instance;
        }

        if (encoding.IsSingleByte)
        {
            return SingleByteEraser.Instance;
        }

        return LeadByteErasers.GetOrAdd(encoding.CodePage, static (_, e) => LeadByteEraser.TryCreate(e), encoding)
            ?? (CharacterEraser)new DecodingEraser(encoding);
    }

    private static Decoder ReplacingDecoder(Encoding encoding)
    {
        // Whatever fallback the caller's encoding has, erasing must never throw on bytes a client made up.
        Decoder decoder = encoding.GetDecoder();
        decoder.Fallback = new DecoderReplacementFallback("\uFFFD");
        return decoder;
    }

    private sealed class SingleByteEraser : CharacterEraser
    {
        public static readonly SingleByteEraser Instance = new();

        public override int StartOfLast(ReadOnlySpan<byte> line) => line.Length - 1;
    }

    private sealed class Utf8Eraser : CharacterEraser
    {
        public static readonly Utf8Eraser Instance = new();

        public override int StartOfLast(ReadOnlySpan<byte> line)
        {
            int last = line.Length - 1;
            int start = last;
            while (start > 0 && last - start < 3 && (line[start] & 0xC0) == 0x80)
            {
                start--;
            }

            if (start == last)
            {
                return last;
            }

            // Erase what the decoder shows as one character: a valid sequence, or a valid but unfinished one (one
            // U+FFFD). Anything else is invalid, shown as a U+FFFD per byte or so, and goes one byte at a time.
            OperationStatus status = Rune.DecodeFromUtf8(line[start..], out _, out int used);
            bool oneCharacter = (status == OperationStatus.Done && used == line.Length - start)
                || status == OperationStatus.NeedMoreData;
            return oneCharacter ? start : last;
        }
    }

    /// <summary>
    /// For double-byte code pages (GBK, Shift-JIS, Big5, UHC) whose decoder takes every lead byte together with
    /// whatever byte follows as one character. There the last character is found from the end, by the parity of
    /// the run of possible lead bytes before the last byte, in time proportional to that run rather than the line.
    /// </summary>
    private sealed class LeadByteEraser(bool[] isLead) : CharacterEraser
    {
        public override int StartOfLast(ReadOnlySpan<byte> line)
        {
            int last = line.Length - 1;
            int run = 0;
            for (int i = last - 1; i >= 0 && isLead[line[i]]; i--)
            {
                run++;
            }

            // The byte before the run is not a lead, so a character starts right after it; from there the run pairs up
            // lead-trail, and an odd run leaves its last byte as the lead of the final character.
            return (run & 1) == 0 ? last : last - 1;
        }

        public static LeadByteEraser? TryCreate(Encoding encoding)
        {
            Decoder decoder = ReplacingDecoder(encoding);
            Span<char> chars = stackalloc char[8];
            var isLead = new bool[256];
            bool any = false;
            for (int b = 0; b < 256; b++)
            {
                decoder.Reset();
                decoder.Convert([(byte)b], chars, flush: false, out _, out int produced, out _);
                isLead[b] = produced == 0;
                any |= isLead[b];
            }

            if (!any)
            {
                return null;
            }

            // The parity rule holds only if the decoder really pairs each lead with any next byte; verified by decoding
            // every pair instead of trusting a list of code pages.
            for (int lead = 0; lead < 256; lead++)
            {
                if (!isLead[lead])
                {
                    continue;
                }

                for (int trail = 0; trail < 256; trail++)
                {
                    decoder.Reset();
                    decoder.Convert([(byte)lead], chars, flush: false, out _, out _, out _);
                    decoder.Convert([(byte)trail], chars, flush: false, out _, out int produced, out _);
                    decoder.Convert([], chars, flush: true, out _, out int held, out _);
                    if (produced != 1 || held != 0)
                    {
                        return null;
                    }
                }
            }

            return new LeadByteEraser(isLead);
        }
    }

    /// <summary>
    /// Any other multi-byte encoding (e.g. GB18030, with 4-byte characters): the last character is the last one the
    /// decoder shows, and its bytes are the fewest at the end of the line whose removal leaves exactly the characters
    /// before it. Only decoding tells, because which bytes make a character (and how many bytes one U+FFFD stands
    /// for) depends on everything before them.
    /// </summary>
    private sealed class DecodingEraser(Encoding encoding) : CharacterEraser
    {
        // Longer than any character of these encodings (4 bytes) and than what one U+FFFD stands for.
        private const int MaxCharacterBytes = 8;

        private const int ResyncAttempts = 4;

        private readonly Decoder _decoder = ReplacingDecoder(encoding);

        public override int StartOfLast(ReadOnlySpan<byte> line)
        {
            // Decoding the whole line for every candidate would cost the line length many times over per BS; after a
            // point where the decoder holds no partial character, the bytes before it no longer matter.
            int resync = 0;
            for (int at = line.Length - MaxCharacterBytes; at > 0 && at > line.Length - MaxCharacterBytes - ResyncAttempts; at--)
            {
                if (DecodesCleanly(line[..at]))
                {
                    resync = at;
                    break;
                }
            }

            ReadOnlySpan<byte> tail = line[resync..];
            int maxChars = encoding.GetMaxCharCount(tail.Length);
            char[] rented = ArrayPool<char>.Shared.Rent(2 * maxChars);
            try
            {
                Span<char> shown = rented.AsSpan(0, maxChars);
                Span<char> shorter = rented.AsSpan(maxChars, maxChars);
                int count = Decode(tail, shown);
                if (count == 0)
                {
                    return line.Length - 1;
                }

                bool pair = count >= 2 && char.IsSurrogatePair(shown[count - 2], shown[count - 1]);
                ReadOnlySpan<char> wanted = shown[..(count - (pair ? 2 : 1))];
                for (int keep = tail.Length - 1; keep >= Math.Max(0, tail.Length - MaxCharacterBytes); keep--)
                {
                    if (shorter[..Decode(tail[..keep], shorter)].SequenceEqual(wanted))
                    {
                        return resync + keep;
                    }
                }

                return line.Length - 1;
            }
            finally
            {
                ArrayPool<char>.Shared.Return(rented);
            }
        }

        private int Decode(ReadOnlySpan<byte> bytes, Span<char> chars)
        {
            _decoder.Reset();
            _decoder.Convert(bytes, chars, flush: true, out _, out int produced, out _);
            return produced;
        }

        // True when decoding `prefix` leaves nothing held back: a flush then has nothing left to turn into U+FFFD.
        private bool DecodesCleanly(ReadOnlySpan<byte> prefix)
        {
            _decoder.Reset();
            Span<char> chars = stackalloc char[256];
            while (!prefix.IsEmpty)
            {
                _decoder.Convert(prefix[..Math.Min(prefix.Length, 64)], chars, flush: false, out int used, out _, out _);
                if (used == 0)
                {
                    return false;
                }

                prefix = prefix[used..];
            }

            _decoder.Convert([], chars, flush: true, out _, out int held, out _);
            return held == 0;
        }
    }
}
