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

    /// <summary>The encoding of request and reply lines on this listener.</summary>
    Encoding Encoding { get; }
}
