// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>Reply lines for the binary listener: each line one frame, always UTF-8.</summary>
public sealed class BinaryReplyEncoder : IReplyEncoder
{
    private const int HeaderSize = FrameHeader.Size;

    // No BOM, and U+FFFD instead of an exception for a lone surrogate or an invalid byte.
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private BinaryReplyEncoder()
    {
    }

    public static BinaryReplyEncoder Instance { get; } = new();

    public Encoding Encoding => Utf8;

    public int DataHeaderBytes => HeaderSize;

    /// <summary>The one place the server writes a frame header: reply lines and file data frames alike.</summary>
    public void WriteDataHeader(Span<byte> header, int count) => BinaryPrimitives.WriteUInt32BigEndian(header, (uint)count);

    public void WriteLine(IBufferWriter<byte> output, ReadOnlySpan<char> line)
    {
        int size = Utf8.GetByteCount(line);
        Span<byte> span = output.GetSpan(HeaderSize + size);
        WriteDataHeader(span, size);
        Utf8.GetBytes(line, span[HeaderSize..]);
        output.Advance(HeaderSize + size);
    }

    public void WriteEncodedLine(IBufferWriter<byte> output, ReadOnlySpan<byte> encodedLine)
    {
        Span<byte> span = output.GetSpan(HeaderSize + encodedLine.Length);
        WriteDataHeader(span, encodedLine.Length);
        encodedLine.CopyTo(span[HeaderSize..]);
        output.Advance(HeaderSize + encodedLine.Length);
    }
}
