using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>Reply lines for the binary listener: each line one frame, always UTF-8.</summary>
public sealed class BinaryReplyEncoder : IReplyEncoder
{
    private const int HeaderSize = 4;

    // No BOM, and U+FFFD instead of an exception for a lone surrogate or an invalid byte.
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private BinaryReplyEncoder()
    {
    }

    public static BinaryReplyEncoder Instance { get; } = new();

    public Encoding Encoding => Utf8;

    public void WriteLine(IBufferWriter<byte> output, ReadOnlySpan<char> line)
    {
        int size = Utf8.GetByteCount(line);
        Span<byte> span = output.GetSpan(HeaderSize + size);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)size);
        Utf8.GetBytes(line, span[HeaderSize..]);
        output.Advance(HeaderSize + size);
    }

    public void WriteEncodedLine(IBufferWriter<byte> output, ReadOnlySpan<byte> encodedLine)
    {
        Span<byte> span = output.GetSpan(HeaderSize + encodedLine.Length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)encodedLine.Length);
        encodedLine.CopyTo(span[HeaderSize..]);
        output.Advance(HeaderSize + encodedLine.Length);
    }
}
