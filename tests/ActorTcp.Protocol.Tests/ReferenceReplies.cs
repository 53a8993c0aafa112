using System.Buffers;
using System.Text;

namespace ActorTcp.Protocol.Tests;

/// <summary>One reply as a test writes it: its shape, its lines (header first), and a GET's file bytes cut into data frames.</summary>
internal sealed record ModelReply(ReplyShape Shape, byte[][] Lines, byte[] Data, int[] FrameSizes)
{
    /// <summary>What a reader must hand out for this reply, file bytes as one item however they were cut.</summary>
    public IEnumerable<ReplyItem> Expected()
    {
        for (int i = 0; i < Lines.Length; i++)
        {
            yield return ReplyItem.Line(KindOf(i), Lines[i]);
        }

        if (Data.Length > 0)
        {
            yield return ReplyItem.Data(Data);
        }
    }

    private ReplyLineKind KindOf(int index) =>
        index > 0 ? ReplyLineKind.BlockLine
        : Replies.IsError(Lines[0]) ? ReplyLineKind.Error
        : Shape == ReplyShape.Block ? ReplyLineKind.BlockHeader
        : Shape == ReplyShape.File ? ReplyLineKind.FileHeader
        : ReplyLineKind.Single;
}

/// <summary>One thing a reply reader handed out, in a form tests compare: bytes as Latin-1 text.</summary>
public readonly record struct ReplyItem(ReplyEvent Event, ReplyLineKind Kind, string Bytes)
{
    public static readonly ReplyItem FramingError = new(ReplyEvent.FramingError, ReplyLineKind.Single, "");

    public static ReplyItem Line(ReplyLineKind kind, byte[] bytes) => new(ReplyEvent.Line, kind, Wire.Latin1(bytes));

    public static ReplyItem Line(ReplyLineKind kind, string latin1) => new(ReplyEvent.Line, kind, latin1);

    public static ReplyItem Data(byte[] bytes) => new(ReplyEvent.Data, ReplyLineKind.Single, Wire.Latin1(bytes));

    public override string ToString() => Event switch
    {
        ReplyEvent.Line => $"{Kind} \"{Escape(Bytes)}\"",
        ReplyEvent.Data => $"Data \"{Escape(Bytes)}\"",
        _ => Event.ToString(),
    };

    private static string Escape(string s) => string.Concat(s.Select(c => c is >= ' ' and < '\u007F' ? c.ToString() : $"\\x{(int)c:X2}"));
}

/// <summary>
/// Replies put on the wire the way the server does (its own reply encoders for lines, one frame per data piece), and
/// read back the slow, obvious way: the whole stream at once, shape by shape.
/// </summary>
internal static class ReferenceReplies
{
    public static byte[] Write(IEnumerable<ModelReply> replies, bool binary, bool crlf)
    {
        IReplyEncoder encoder = binary ? BinaryReplyEncoder.Instance : new TextReplyEncoder(Encoding.UTF8, crlf);
        var output = new ArrayBufferWriter<byte>();
        foreach (ModelReply reply in replies)
        {
            foreach (byte[] line in reply.Lines)
            {
                encoder.WriteEncodedLine(output, line);
            }

            if (!binary)
            {
                output.Write(reply.Data);
                continue;
            }

            int at = 0;
            for (int k = 0; at < reply.Data.Length; k++)
            {
                int size = Math.Min(reply.FrameSizes[k % reply.FrameSizes.Length], reply.Data.Length - at);
                output.Write(Wire.Frame(reply.Data[at..(at + size)]));
                at += size;
            }
        }

        return output.WrittenSpan.ToArray();
    }

    /// <summary>Reads well-formed replies of the given shapes from the whole stream, each line by the rules of its place.</summary>
    public static List<ReplyItem> Read(byte[] raw, IReadOnlyList<ReplyShape> shapes, bool binary)
    {
        var items = new List<ReplyItem>();
        int at = 0;

        byte[]? NextLine()
        {
            if (binary)
            {
                List<Decoded> frame = ReferenceFraming.Frames(raw[at..], int.MaxValue);
                if (frame.Count == 0)
                {
                    return null;
                }

                byte[] payload = Encoding.Latin1.GetBytes(frame[0].Bytes);
                at += 4 + payload.Length;
                return payload;
            }

            int end = Array.IndexOf(raw, (byte)'\n', at);
            if (end < 0)
            {
                return null;
            }

            byte[] line = raw[at..end];
            at = end + 1;
            return line.Length > 0 && line[^1] == '\r' ? line[..^1] : line;
        }

        foreach (ReplyShape shape in shapes)
        {
            if (NextLine() is not { } first)
            {
                break;
            }

            string text = Encoding.Latin1.GetString(first);
            bool ok = text.StartsWith("OK ", StringComparison.Ordinal);
            string count = ok ? text[3..].Split(' ')[0] : "";
            if (text.StartsWith("ERR ", StringComparison.Ordinal))
            {
                items.Add(ReplyItem.Line(ReplyLineKind.Error, first));
            }
            else if (shape == ReplyShape.Block && ok && count.Length > 0 && count.All(char.IsAsciiDigit))
            {
                items.Add(ReplyItem.Line(ReplyLineKind.BlockHeader, first));
                for (long n = long.Parse(count); n > 0 && NextLine() is { } line; n--)
                {
                    items.Add(ReplyItem.Line(ReplyLineKind.BlockLine, line));
                }
            }
            else if (shape == ReplyShape.File && ok && count.Length > 0 && count.All(char.IsAsciiDigit) && count == text[3..])
            {
                items.Add(ReplyItem.Line(ReplyLineKind.FileHeader, first));
                var data = new List<byte>();
                for (long n = long.Parse(count); n > 0;)
                {
                    byte[]? piece = binary ? NextLine() : raw[at..(int)Math.Min(raw.Length, at + n)];
                    if (piece is null || piece.Length == 0)
                    {
                        break;
                    }

                    if (!binary)
                    {
                        at += piece.Length;
                    }

                    data.AddRange(piece);
                    n -= piece.Length;
                }

                if (data.Count > 0)
                {
                    items.Add(ReplyItem.Data([.. data]));
                }
            }
            else
            {
                items.Add(ReplyItem.Line(ReplyLineKind.Single, first));
            }
        }

        return items;
    }
}

/// <summary>Feeds a reply reader the way a client does: one call per event, the shapes said as each reply ends.</summary>
internal static class ReplyDrive
{
    public static List<ReplyItem> Chunks(ReplyReader reader, IEnumerable<byte[]> chunks, IReadOnlyList<ReplyShape> shapes, int? maxBuffered = null)
    {
        var items = new List<ReplyItem>();
        int nextShape = 0;
        var data = new List<byte>();

        void Add(ReplyItem item)
        {
            if (data.Count > 0)
            {
                items.Add(ReplyItem.Data([.. data]));
                data.Clear();
            }

            items.Add(item);
        }

        void SayShape()
        {
            if (reader.ReplyComplete && nextShape < shapes.Count)
            {
                reader.ExpectReply(shapes[nextShape++]);
            }
        }

        SayShape();
        foreach (byte[] chunk in chunks)
        {
            ReadOnlySpan<byte> rest = chunk;
            int calls = 0;
            while (true)
            {
                ReplyEvent found = reader.Read(rest, out int consumed, out ReadOnlySpan<byte> bytes);
                if (consumed < 0 || consumed > rest.Length)
                {
                    throw new InvalidOperationException($"consumed {consumed} of {rest.Length}");
                }

                CheckBound(reader, maxBuffered);
                if (found == ReplyEvent.NeedMore)
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

                switch (found)
                {
                    case ReplyEvent.Line:
                        Add(ReplyItem.Line(reader.LineKind, bytes.ToArray()));
                        break;
                    case ReplyEvent.Data:
                        data.AddRange(bytes.ToArray());
                        break;
                    default:
                        Add(ReplyItem.FramingError);
                        break;
                }

                rest = rest[consumed..];
                SayShape();
            }
        }

        switch (reader.Finish(out ReadOnlySpan<byte> last))
        {
            case ReplyEvent.Line:
                Add(ReplyItem.Line(reader.LineKind, last.ToArray()));
                break;
            case ReplyEvent.FramingError:
                Add(ReplyItem.FramingError);
                break;
        }

        if (data.Count > 0)
        {
            items.Add(ReplyItem.Data([.. data]));
        }

        CheckBound(reader, maxBuffered);
        return items;
    }

    private static void CheckBound(ReplyReader reader, int? maxBuffered)
    {
        if (maxBuffered is { } max && reader.BufferedBytes > max)
        {
            throw new InvalidOperationException($"holds {reader.BufferedBytes} bytes, bound {max}");
        }
    }
}
