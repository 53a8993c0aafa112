// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>Frames reply lines for one listener's wire format.</summary>
public interface IReplyEncoder
{
    /// <summary>Appends one reply line (text: in the text-encoding plus the line ending; binary: one frame of UTF-8).</summary>
    void WriteLine(IBufferWriter<byte> output, ReadOnlySpan<char> line);

    /// <summary>Appends one reply line whose bytes are already in this listener's wire encoding.</summary>
    void WriteEncodedLine(IBufferWriter<byte> output, ReadOnlySpan<byte> encodedLine);

    /// <summary>
    /// Bytes that frame one chunk of file data in front of it: 0 on the text listener (file bytes go raw), 4 on the
    /// binary one (each chunk is a data frame).
    /// </summary>
    int DataHeaderBytes { get; }

    /// <summary>Writes the <see cref="DataHeaderBytes"/> that frame a chunk of <paramref name="count"/> file bytes.</summary>
    void WriteDataHeader(Span<byte> header, int count);

    /// <summary>The encoding of request and reply lines on this listener.</summary>
    Encoding Encoding { get; }
}
