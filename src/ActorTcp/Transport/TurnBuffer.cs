// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Transport;

/// <summary>
/// Where an actor told <see cref="Readable"/> reads its bytes (<see cref="IConnection.Read"/>): one buffer per thread,
/// lent to one turn at a time, so every session (or load generator client) on a thread shares it and none holds a
/// buffer while idle. What a turn cannot process before it ends must be copied out: the next turn on the thread
/// reads over it.
/// </summary>
internal static class TurnBuffer
{
    /// <summary>The most one read takes: bounds what an actor is handed at once.</summary>
    public const int Size = 16 * 1024;

    [ThreadStatic] private static byte[]? t_buffer;

    public static byte[] ForThisThread => t_buffer ??= new byte[Size];
}
