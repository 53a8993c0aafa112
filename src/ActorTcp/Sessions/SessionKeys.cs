// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace ActorTcp.Sessions;

/// <summary>
/// The keys that let a UDP heartbeat mark a TCP session alive (KEY). A key is 16 bytes from a cryptographic
/// generator, shown as 32 lowercase hex digits, made on the first KEY of a session and forgotten when the session
/// ends. Sessions issue keys from their threads and the UDP endpoint finds them from its own, so the table is
/// concurrent. It is indexed by a keyed hash of the key, never by the key itself, and the key is then compared in
/// constant time: how long a look-up takes tells a guesser nothing about the keys that exist.
/// </summary>
internal sealed class SessionKeys
{
    public const int KeyBytes = 16;

    private readonly byte[] _indexSecret = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<ulong, SessionTicket> _byIndex = new();

    public int Count => _byIndex.Count;

    /// <summary>The session's key, made (and registered) on first use.</summary>
    public string KeyOf(SessionTicket ticket)
    {
        if (ticket.Key is null)
        {
            var key = new byte[KeyBytes];
            do RandomNumberGenerator.Fill(key);
            while (!_byIndex.TryAdd(Index(key), ticket));
            ticket.Key = key;
        }
        return Convert.ToHexStringLower(ticket.Key);
    }

    /// <summary>The live session whose key is, byte for byte, <paramref name="hex"/> (32 lowercase hex digits); else null.</summary>
    public SessionTicket? Find(ReadOnlySpan<byte> hex)
    {
        if (hex.Length != 2 * KeyBytes) return null;
        Span<byte> key = stackalloc byte[KeyBytes];
        for (var i = 0; i < KeyBytes; i++)
        {
            var high = LowerHexDigit(hex[2 * i]);
            var low = LowerHexDigit(hex[2 * i + 1]);
            if ((high | low) < 0) return null;
            key[i] = (byte)(high << 4 | low);
        }
        return _byIndex.TryGetValue(Index(key), out var ticket) && ticket.Key is { } known
            && CryptographicOperations.FixedTimeEquals(known, key) ? ticket : null;
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
