// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>Reply lines for the text listener: the text-encoding, then LF or CR LF.</summary>
public sealed class TextReplyEncoder : IReplyEncoder
{
    private readonly bool _crlf;

    public TextReplyEncoder(Encoding encoding, bool crlf)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        Encoding = encoding;
        _crlf = crlf;
    }

    public Encoding Encoding { get; }

    public int DataHeaderBytes => 0;

    public void WriteDataHeader(Span<byte> header, int count) { }

    private int EndLength => _crlf ? 2 : 1;

    public void WriteLine(IBufferWriter<byte> output, ReadOnlySpan<char> line)
    {
        int size = Encoding.GetByteCount(line);
        Span<byte> span = output.GetSpan(size + EndLength);
        int written = Encoding.GetBytes(line, span);
        output.Advance(written + WriteEnd(span[written..]));
    }

    public void WriteEncodedLine(IBufferWriter<byte> output, ReadOnlySpan<byte> encodedLine)
    {
        Span<byte> span = output.GetSpan(encodedLine.Length + EndLength);
        encodedLine.CopyTo(span);
        output.Advance(encodedLine.Length + WriteEnd(span[encodedLine.Length..]));
    }

    private int WriteEnd(Span<byte> span)
    {
        if (_crlf)
        {
            span[0] = (byte)'\r';
            span[1] = (byte)'\n';
            return 2;
        }

        span[0] = (byte)'\n';
        return 1;
    }
}
