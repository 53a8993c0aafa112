using System.Text;

namespace ActorTcp.Protocol.Tests;

/// <summary>Builds byte strings for tests: text parts in Latin-1 (one char = one byte), numbers as single bytes.</summary>
internal static class Wire
{
    public static byte[] Of(params object[] parts)
    {
        var bytes = new List<byte>();
        foreach (object part in parts)
        {
            switch (part)
            {
                case string text:
                    bytes.AddRange(Encoding.Latin1.GetBytes(text));
                    break;
                case byte b:
                    bytes.Add(b);
                    break;
                case char c:
                    bytes.Add(checked((byte)c));
                    break;
                case int i:
                    bytes.Add(checked((byte)i));
                    break;
                case byte[] array:
                    bytes.AddRange(array);
                    break;
                default:
                    throw new ArgumentException($"cannot put {part.GetType()} on the wire");
            }
        }

        return [.. bytes];
    }

    public static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    public static byte[] Frame(string utf8Payload) => Frame(Encoding.UTF8.GetBytes(utf8Payload));

    public static byte[] Frame(byte[] payload)
    {
        var frame = new byte[4 + payload.Length];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt32BigEndian(frame, (uint)payload.Length);
        payload.CopyTo(frame, 4);
        return frame;
    }
}

/// <summary>One event as a test compares it: the kind, and for a request its bytes as Latin-1 text.</summary>
public readonly record struct Decoded(DecodeEvent Event, string Bytes)
{
    public static readonly Decoded TooLong = new(DecodeEvent.TooLong, "");
    public static readonly Decoded TimingMark = new(DecodeEvent.TimingMark, "");

    public static Decoded Request(string latin1) => new(DecodeEvent.Request, latin1);

    public static Decoded Request(byte[] bytes) => new(DecodeEvent.Request, Wire.Latin1(bytes));

    public override string ToString() => Event == DecodeEvent.Request
        ? $"Request \"{Escape(Bytes)}\""
        : Event.ToString();

    private static string Escape(string s) => string.Concat(s.Select(c => c is >= ' ' and < '\u007F' ? c.ToString() : $"\\x{(int)c:X2}"));
}

/// <summary>Feeds decoders the way a connection does: one call per event, the rest of the span handed back.</summary>
internal static class Drive
{
    public static List<Decoded> Chunks(IRequestDecoder decoder, IEnumerable<byte[]> chunks, bool finish = true, int? maxBuffered = null)
    {
        var events = new List<Decoded>();
        foreach (byte[] chunk in chunks)
        {
            ReadOnlySpan<byte> rest = chunk;
            int calls = 0;
            while (true)
            {
                DecodeEvent found = decoder.Decode(rest, out int consumed, out ReadOnlySpan<byte> request);
                if (consumed < 0 || consumed > rest.Length)
                {
                    throw new InvalidOperationException($"consumed {consumed} of {rest.Length}");
                }

                CheckBound(decoder, maxBuffered);
                if (found == DecodeEvent.NeedMore)
                {
                    if (consumed != rest.Length)
                    {
                        throw new InvalidOperationException($"NeedMore after consuming {consumed} of {rest.Length}");
                    }

                    break;
                }

                if (++calls > chunk.Length + 1)
                {
                    throw new InvalidOperationException("events without progress");
                }

                events.Add(found == DecodeEvent.Request
                    ? Decoded.Request(request.ToArray())
                    : new Decoded(found, ""));
                rest = rest[consumed..];
            }
        }

        if (finish && decoder.Finish(out ReadOnlySpan<byte> last) == DecodeEvent.Request)
        {
            events.Add(Decoded.Request(last.ToArray()));
        }

        CheckBound(decoder, maxBuffered);
        return events;
    }

    public static List<Decoded> Whole(IRequestDecoder decoder, byte[] bytes, bool finish = true, int? maxBuffered = null) =>
        Chunks(decoder, [bytes], finish, maxBuffered);

    public static List<Decoded> ByteByByte(IRequestDecoder decoder, byte[] bytes, bool finish = true, int? maxBuffered = null) =>
        Chunks(decoder, bytes.Select(b => new[] { b }), finish, maxBuffered);

    /// <summary>Cuts <paramref name="bytes"/> into pieces of the given sizes, cycling through them.</summary>
    public static IEnumerable<byte[]> Split(byte[] bytes, IReadOnlyList<int> sizes)
    {
        int at = 0;
        for (int k = 0; at < bytes.Length; k++)
        {
            int size = Math.Min(Math.Max(1, sizes[k % sizes.Count]), bytes.Length - at);
            yield return bytes[at..(at + size)];
            at += size;
        }
    }

    private static void CheckBound(IRequestDecoder decoder, int? maxBuffered)
    {
        if (maxBuffered is { } max && decoder.BufferedBytes > max)
        {
            throw new InvalidOperationException($"holds {decoder.BufferedBytes} bytes, bound {max}");
        }
    }
}
