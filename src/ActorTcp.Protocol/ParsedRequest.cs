// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Protocol;

/// <summary>
/// Where the parts of a request line are, as offsets into that line, so that parsing allocates nothing and the
/// verb can be quoted back exactly as the client wrote it.
/// </summary>
public readonly record struct ParsedRequest(Verb Verb, int VerbStart, int VerbLength, int ArgsStart);
