// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;

namespace ActorTcp.Sessions;

/// <summary>
/// Reply bytes waiting for the transport, in one pooled buffer rented only while there is something to send,
/// so an idle session holds none. A field of its session (which hands it out as its <see cref="IBufferWriter{T}"/>),
/// not an object of its own.
/// </summary>
internal struct PendingOutput
{
    private const int MinimumRent = 256;

    private byte[]? _buffer;
    private int _count;

    public readonly int Count => _count;

    public void Advance(int count) => _count += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsMemory(_count);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        Ensure(sizeHint);
        return _buffer.AsSpan(_count);
    }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(GetSpan(bytes.Length));
        _count += bytes.Length;
    }

    /// <summary>
    /// Hands everything over without a copy: the caller returns <paramref name="rented"/> to the pool once the
    /// transport has taken the bytes.
    /// </summary>
    public ReadOnlyMemory<byte> TakeAll(out byte[] rented)
    {
        rented = _buffer!;
        var data = rented.AsMemory(0, _count);
        _buffer = null;
        _count = 0;
        return data;
    }

    /// <summary>Gives the buffer back; used when the session ends with nothing more to send.</summary>
    public void Release()
    {
        if (_buffer is null) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = null;
        _count = 0;
    }

    private void Ensure(int sizeHint)
    {
        var needed = _count + Math.Max(sizeHint, 1);
        if (_buffer is not null && needed <= _buffer.Length) return;
        var grown = ArrayPool<byte>.Shared.Rent(Math.Max(MinimumRent, Math.Max(needed, (_buffer?.Length ?? 0) * 2)));
        if (_buffer is not null)
        {
            _buffer.AsSpan(0, _count).CopyTo(grown);
            ArrayPool<byte>.Shared.Return(_buffer);
        }
        _buffer = grown;
    }
}
