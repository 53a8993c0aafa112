// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace ActorTcp.Protocol;

/// <summary>
/// The client's side of the framing (PROTOCOL.md "Text framing", "Binary framing"): one request line becomes the line
/// plus LF (text) or one frame of a 4-byte big-endian length and the UTF-8 payload (binary). Stateless, so the two
/// instances are shared by every client.
/// </summary>
public sealed class RequestEncoder
{
    /// <summary>Bytes of the binary frame header.</summary>
    public const int FrameHeaderBytes = FrameHeader.Size;

    // No BOM, and U+FFFD instead of an exception for a lone surrogate, as the server's reply encoders do.
    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    private RequestEncoder(bool binary) => IsBinary = binary;

    /// <summary>Lines in UTF-8 ended by LF, for the text listener.</summary>
    public static RequestEncoder Text { get; } = new(binary: false);

    /// <summary>One length-prefixed frame per line, for the binary listener.</summary>
    public static RequestEncoder Binary { get; } = new(binary: true);

    public bool IsBinary { get; }

    /// <summary>Bytes around a line's payload: the frame header, or the LF.</summary>
    public int Overhead => IsBinary ? FrameHeaderBytes : 1;

    public static RequestEncoder For(bool binary) => binary ? Binary : Text;

    /// <summary>How many bytes <see cref="Write(ReadOnlySpan{char}, Span{byte})"/> writes for <paramref name="line"/>.</summary>
    public int GetByteCount(ReadOnlySpan<char> line) => Utf8.GetByteCount(line) + Overhead;

    /// <summary>Writes one request into <paramref name="destination"/> and returns the bytes written.</summary>
    /// <exception cref="ArgumentException">The destination is shorter than <see cref="GetByteCount"/>, or a text line holds a LF.</exception>
    public int Write(ReadOnlySpan<char> line, Span<byte> destination)
    {
        CheckTextLine(line);
        int size = Utf8.GetByteCount(line);
        if (destination.Length < size + Overhead)
        {
            throw new ArgumentException($"needs {size + Overhead} bytes, has {destination.Length}", nameof(destination));
        }

        int start = IsBinary ? FrameHeaderBytes : 0;
        Utf8.GetBytes(line, destination[start..]);
        return Frame(destination, size);
    }

    /// <summary>Appends one request to <paramref name="output"/>.</summary>
    public void Write(IBufferWriter<byte> output, ReadOnlySpan<char> line)
    {
        ArgumentNullException.ThrowIfNull(output);
        CheckTextLine(line);
        int size = Utf8.GetByteCount(line);
        Span<byte> span = output.GetSpan(size + Overhead);
        Utf8.GetBytes(line, span[(IsBinary ? FrameHeaderBytes : 0)..]);
        output.Advance(Frame(span, size));
    }

    /// <summary>Appends one request whose line is already UTF-8 (or, on a text listener, already in its text-encoding).</summary>
    public void WriteUtf8(IBufferWriter<byte> output, ReadOnlySpan<byte> line)
    {
        ArgumentNullException.ThrowIfNull(output);
        CheckTextLine(line);
        Span<byte> span = output.GetSpan(line.Length + Overhead);
        line.CopyTo(span[(IsBinary ? FrameHeaderBytes : 0)..]);
        output.Advance(Frame(span, line.Length));
    }

    /// <summary>One request as a new array: for requests built once and sent many times.</summary>
    public byte[] Encode(ReadOnlySpan<char> line)
    {
        var bytes = new byte[Utf8.GetByteCount(line) + Overhead];
        Write(line, bytes);
        return bytes;
    }

    /// <summary>One request of already encoded line bytes as a new array.</summary>
    public byte[] EncodeUtf8(ReadOnlySpan<byte> line)
    {
        CheckTextLine(line);
        var bytes = new byte[line.Length + Overhead];
        line.CopyTo(bytes.AsSpan(IsBinary ? FrameHeaderBytes : 0));
        Frame(bytes, line.Length);
        return bytes;
    }

    // The one place on the client side where a frame header or a line end is written; the payload is already in place.
    private int Frame(Span<byte> span, int payloadBytes)
    {
        if (IsBinary)
        {
            BinaryPrimitives.WriteUInt32BigEndian(span, (uint)payloadBytes);
            return FrameHeaderBytes + payloadBytes;
        }

        span[payloadBytes] = (byte)'\n';
        return payloadBytes + 1;
    }

    // A LF would end the text request early and turn the rest into a second request; in a frame it is just a byte.
    private void CheckTextLine(ReadOnlySpan<char> line)
    {
        if (!IsBinary && line.Contains('\n'))
        {
            throw new ArgumentException("a text request is one line: it cannot hold a LF", nameof(line));
        }
    }

    private void CheckTextLine(ReadOnlySpan<byte> line)
    {
        if (!IsBinary && line.Contains((byte)'\n'))
        {
            throw new ArgumentException("a text request is one line: it cannot hold a LF", nameof(line));
        }
    }
}
