// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.LoadTest.Clients;

/// <summary>
/// How long a client waits before its next reconnect attempt: "full jitter", a uniform pick between zero and a
/// ceiling that doubles with each failed attempt. Thousands of clients cut off by one node's loss then come back
/// spread over the interval instead of all in the same millisecond.
/// </summary>
internal static class Backoff
{
    public static readonly TimeSpan First = TimeSpan.FromMilliseconds(50);
    public static readonly TimeSpan Max = TimeSpan.FromSeconds(5);

    /// <param name="attempt">0 for the first attempt after the connection was lost.</param>
    /// <param name="unit">A number in [0, 1), e.g. <see cref="Random.NextDouble"/>.</param>
    public static TimeSpan Delay(int attempt, double unit)
    {
        var ceiling = Math.Min(Max.Ticks, First.Ticks << Math.Min(attempt, 16));
        return TimeSpan.FromTicks((long)(Math.Clamp(unit, 0, 1) * ceiling));
    }
}
