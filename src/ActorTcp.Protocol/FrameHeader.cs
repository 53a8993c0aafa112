// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers.Binary;

namespace ActorTcp.Protocol;

/// <summary>
/// Reads the 4-byte big-endian length in front of a frame, also when it arrives split over several reads: the one
/// place either end of a binary connection reads a frame header (requests on the server, replies on a client).
/// </summary>
public struct FrameHeader
{
    public const int Size = 4;

    private uint _value;
    private int _bytes;

    /// <summary>Bytes of a header read so far (0 between frames).</summary>
    public readonly int BufferedBytes => _bytes;

    /// <summary>Reads from <paramref name="input"/> at <paramref name="i"/>; true with the length once all four bytes are in.</summary>
    public bool TryRead(ReadOnlySpan<byte> input, ref int i, out uint length)
    {
        if (_bytes == 0 && input.Length - i >= Size)
        {
            length = BinaryPrimitives.ReadUInt32BigEndian(input[i..]);
            i += Size;
            return true;
        }

        while (_bytes < Size && i < input.Length)
        {
            _value = (_value << 8) | input[i++];
            _bytes++;
        }

        if (_bytes < Size)
        {
            length = 0;
            return false;
        }

        length = _value;
        Reset();
        return true;
    }

    public void Reset()
    {
        _value = 0;
        _bytes = 0;
    }
}
