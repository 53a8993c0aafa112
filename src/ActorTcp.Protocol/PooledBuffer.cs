// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Buffers;

namespace ActorTcp.Protocol;

/// <summary>
/// A byte buffer rented from <see cref="ArrayPool{T}.Shared"/> only while it holds something. A mutable struct kept in a
/// field of its owner (never copied), so a decoder costs no extra object.
/// </summary>
internal struct PooledBuffer
{
    // Small enough that a slow typist holds little, large enough that a typical request line needs no regrowth.
    private const int InitialSize = 256;

    private byte[]? _array;
    private int _length;

    public readonly int Length => _length;

    public readonly Span<byte> Written => _array is null ? default : _array.AsSpan(0, _length);

    public void Append(byte value, int limit)
    {
        Ensure(_length + 1, limit);
        _array![_length++] = value;
    }

    public void Append(ReadOnlySpan<byte> bytes, int limit)
    {
        if (bytes.IsEmpty)
        {
            return;
        }

        Ensure(_length + bytes.Length, limit);
        bytes.CopyTo(_array.AsSpan(_length));
        _length += bytes.Length;
    }

    public void Truncate(int length) => _length = length;

    public void Release()
    {
        _length = 0;
        if (_array is { } array)
        {
            _array = null;
            ArrayPool<byte>.Shared.Return(array);
        }
    }

    // Grows by doubling up to `limit` rather than renting `limit` at once, so a client that announces a large frame or
    // starts a long line makes the server hold memory in proportion to what it actually sent.
    private void Ensure(int needed, int limit)
    {
        if (_array is not null && needed <= _array.Length)
        {
            return;
        }

        int doubled = _array is null ? InitialSize : _array.Length * 2;
        int size = Math.Max(needed, Math.Min(limit, doubled));
        byte[] bigger = ArrayPool<byte>.Shared.Rent(size);
        if (_array is { } old)
        {
            old.AsSpan(0, _length).CopyTo(bigger);
            ArrayPool<byte>.Shared.Return(old);
        }

        _array = bigger;
    }
}
