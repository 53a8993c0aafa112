// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Protocol;

/// <summary>The command a request line names; <see cref="Quit"/> covers both QUIT and EXIT.</summary>
public enum Verb
{
    Blank,
    Unknown,
    Ping,
    Heartbeat,
    Echo,
    Who,
    List,
    Get,
    Stats,
    Nodes,
    Help,
    Quit,
    /// <summary>KEY: the session's key for UDP heartbeats.</summary>
    Key,
}
