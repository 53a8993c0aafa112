// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Protocol;

/// <summary>What one call of <see cref="IRequestDecoder.Decode"/> found in the stream.</summary>
public enum DecodeEvent
{
    NeedMore,
    Request,
    TooLong,
    TimingMark,
}
