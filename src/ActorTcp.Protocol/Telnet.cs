// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Protocol;

/// <summary>Telnet command bytes (RFC 854) that the text framing removes or answers.</summary>
public static class Telnet
{
    public const byte Se = 240;
    public const byte Nop = 241;
    public const byte DataMark = 242;
    public const byte Break = 243;
    public const byte InterruptProcess = 244;
    public const byte AbortOutput = 245;
    public const byte AreYouThere = 246;
    public const byte EraseCharacter = 247;
    public const byte EraseLine = 248;
    public const byte GoAhead = 249;
    public const byte Sb = 250;
    public const byte Will = 251;
    public const byte Wont = 252;
    public const byte Do = 253;
    public const byte Dont = 254;
    public const byte Iac = 255;

    /// <summary>The TIMING-MARK option (RFC 860).</summary>
    public const byte TimingMark = 6;

    /// <summary>How far an <c>IAC SB</c> may run without its <c>IAC SE</c> before its bytes are taken as data again.</summary>
    public const int MaxSubnegotiationBytes = 64;

    /// <summary>The answer to <c>IAC DO TIMING-MARK</c>: a client that sent Ctrl-C discards output until it sees this.</summary>
    public static ReadOnlySpan<byte> WontTimingMark => [Iac, Wont, TimingMark];
}
