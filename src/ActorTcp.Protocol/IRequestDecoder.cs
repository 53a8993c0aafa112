// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Protocol;

/// <summary>Cuts one connection's byte stream into requests; one instance per connection, not thread-safe.</summary>
public interface IRequestDecoder : IDisposable
{
    /// <summary>
    /// Decodes at most one event from <paramref name="input"/>, reading as little as needed to produce it.
    /// <paramref name="consumed"/> is how many bytes of <paramref name="input"/> were used; after an event the caller
    /// calls again with the rest. <see cref="DecodeEvent.NeedMore"/> means all of <paramref name="input"/> was consumed.
    /// For <see cref="DecodeEvent.Request"/>, <paramref name="request"/> holds the request's bytes and stays valid only
    /// until the next call on this decoder.
    /// </summary>
    DecodeEvent Decode(ReadOnlySpan<byte> input, out int consumed, out ReadOnlySpan<byte> request);

    /// <summary>
    /// The client closed its sending side: returns <see cref="DecodeEvent.Request"/> with a last unterminated text line
    /// (at least one byte, not while a too-long line is being discarded), otherwise <see cref="DecodeEvent.NeedMore"/>.
    /// A partial binary frame is dropped. Resets the decoder.
    /// </summary>
    DecodeEvent Finish(out ReadOnlySpan<byte> request);

    /// <summary>Bytes currently held in the decoder's own buffer.</summary>
    int BufferedBytes { get; }
}
