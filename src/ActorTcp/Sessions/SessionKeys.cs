// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ActorTcp.Sessions;

/// <summary>
/// The keys that let a UDP heartbeat mark a TCP session alive (KEY). A key is 16 bytes, shown as 32 lowercase hex
/// digits, made on the first KEY of a session and forgotten when the session ends: its first two bytes name the node
/// that holds the session (<see cref="NodeTag"/>, 0 for a server alone), so that a heartbeat another node of the
/// cluster receives can be passed to its owner; the other fourteen come from a cryptographic generator. Sessions issue keys from their threads and the UDP endpoint finds them from its own, so the table is
/// concurrent. It is indexed by a keyed hash of the key, never by the key itself, and the key is then compared in
/// constant time: how long a look-up takes tells a guesser nothing about the keys that exist.
/// </summary>
internal sealed class SessionKeys(ushort nodeTag = 0)
{
    public const int KeyBytes = 16;

    /// <summary>This node's mark in the keys it makes.</summary>
    public ushort NodeTag { get; } = nodeTag;

    /// <summary>The node mark of a cluster address (<c>host:port</c>): 16 bits of its FNV-1a hash.</summary>
    public static ushort TagFor(string nodeAddress)
    {
        var hash = 2166136261u;
        foreach (var c in nodeAddress)
        {
            hash ^= c;
            hash *= 16777619;
        }
        return (ushort)(hash ^ (hash >> 16));
    }

    /// <summary>The node mark in a key.</summary>
    public static ushort TagOf(ReadOnlySpan<byte> key) => (ushort)(key[0] << 8 | key[1]);

    private readonly byte[] _indexSecret = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<ulong, SessionTicket> _byIndex = new();

    public int Count => _byIndex.Count;

    /// <summary>The session's key, made (and registered) on first use.</summary>
    public string KeyOf(SessionTicket ticket)
    {
        if (ticket.Key is null)
        {
            var key = new byte[KeyBytes];
            key[0] = (byte)(NodeTag >> 8);
            key[1] = (byte)NodeTag;
            do RandomNumberGenerator.Fill(key.AsSpan(2));
            while (!_byIndex.TryAdd(Index(key), ticket));
            ticket.Key = key;
        }
        return Convert.ToHexStringLower(ticket.Key);
    }

    /// <summary>The live session whose key is, byte for byte, <paramref name="hex"/> (32 lowercase hex digits); else null.</summary>
    public SessionTicket? Find(ReadOnlySpan<byte> hex)
    {
        Span<byte> key = stackalloc byte[KeyBytes];
        return TryParse(hex, key) ? FindByKey(key) : null;
    }

    /// <summary>The live session whose key is <paramref name="key"/> (16 bytes); else null.</summary>
    public SessionTicket? FindByKey(ReadOnlySpan<byte> key) =>
        key.Length == KeyBytes && _byIndex.TryGetValue(Index(key), out var ticket) && ticket.Key is { } known
        && CryptographicOperations.FixedTimeEquals(known, key) ? ticket : null;

    /// <summary>Reads a key written as 32 lowercase hex digits; false for anything else.</summary>
    public static bool TryParse(ReadOnlySpan<byte> hex, Span<byte> key)
    {
        if (hex.Length != 2 * KeyBytes) return false;
        for (var i = 0; i < KeyBytes; i++)
        {
            var high = LowerHexDigit(hex[2 * i]);
            var low = LowerHexDigit(hex[2 * i + 1]);
            if ((high | low) < 0) return false;
            key[i] = (byte)(high << 4 | low);
        }
        return true;
    }

    /// <summary>The session is over: its key no longer keeps anything alive.</summary>
    public void Forget(SessionTicket ticket)
    {
        if (ticket.Key is { } key) _byIndex.TryRemove(new KeyValuePair<ulong, SessionTicket>(Index(key), ticket));
    }

    private ulong Index(ReadOnlySpan<byte> key)
    {
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        HMACSHA256.HashData(_indexSecret, key, mac);
        return BitConverter.ToUInt64(mac);
    }

    // Only lowercase: the key must match byte for byte, so "A" is not "a".
    private static int LowerHexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        _ => -1,
    };
}
