// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using System.Net.Sockets;
using Akka.Actor;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Udp;

/// <summary>
/// The UDP endpoint: a socket under an actor. The actor owns the socket and its rate table; its receive loop answers
/// each datagram in place through the <see cref="UdpResponder"/>, one at a time, so a datagram costs no message and
/// no allocation, and nothing here ever runs on, or waits for, a session actor.
/// </summary>
internal sealed class UdpEndpoint : UntypedActor
{
    private readonly Socket _socket;
    private readonly UdpResponder _responder;
    private readonly int _maxLineBytes;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();

    public UdpEndpoint(Socket socket, UdpResponder responder, int maxLineBytes, ILogger logger)
    {
        _socket = socket;
        _responder = responder;
        _maxLineBytes = maxLineBytes;
        _logger = logger;
    }

    public static Props Props(Socket socket, UdpResponder responder, int maxLineBytes, ILogger logger) =>
        Akka.Actor.Props.Create(() => new UdpEndpoint(socket, responder, maxLineBytes, logger));

    /// <summary>Binds the UDP socket; throws <see cref="SocketException"/> if the address cannot be had.</summary>
    public static Socket Bind(IPEndPoint endpoint)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            socket.Bind(endpoint);
            // Answers must never hold up the loop: a send that would block is dropped, as UDP may.
            socket.Blocking = false;
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    protected override void PreStart() => _ = ReceiveLoopAsync();

    protected override void PostStop()
    {
        _stop.Cancel();
        _socket.Dispose();
    }

    protected override void OnReceive(object message)
    {
        if (message is GetUdpAddresses) Sender.Tell(_responder.Rates.Addresses);
        else Unhandled(message);
    }

    private async Task ReceiveLoopAsync()
    {
        // A datagram longer than a request line and its CR LF is oversize: one byte more tells it apart.
        var datagram = new byte[_maxLineBytes + 3];
        var answer = new byte[datagram.Length];
        var from = new SocketAddress(_socket.AddressFamily);
        while (!_stop.IsCancellationRequested)
        {
            int length;
            try
            {
                length = await _socket.ReceiveFromAsync(datagram, SocketFlags.None, from, _stop.Token);
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.MessageSize or SocketError.ConnectionReset)
            {
                // Oversize (truncated), or an ICMP error from an earlier answer: neither stops the endpoint.
                continue;
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e)
            {
                _logger.LogWarning("UDP receive failed: {Error}", e.SocketErrorCode);
                continue;
            }
            // Then take whatever else is queued without going back to the event loop: under a flood that is most
            // datagrams, and a non-blocking receive costs far less than an asynchronous one.
            do
            {
                if (!Answer(datagram, length, answer, from)) return;
            }
            while (TryReceiveNow(datagram, from, out length));
        }
    }

    private bool TryReceiveNow(byte[] datagram, SocketAddress from, out int length)
    {
        length = 0;
        try
        {
            // Available is the size of the next queued datagram: 0 means none (or an empty one, which the
            // asynchronous receive then takes), and asking costs less than a receive that fails.
            while (_socket.Available > 0)
            {
                try
                {
                    length = _socket.ReceiveFrom(datagram, SocketFlags.None, from);
                    return true;
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.MessageSize or SocketError.ConnectionReset)
                {
                }
            }
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Anything else surfaces on the next asynchronous receive.
        }
        return false;
    }

    /// <summary>Answers one datagram if it asks for an answer; false once the socket is gone.</summary>
    private bool Answer(byte[] datagram, int length, byte[] answer, SocketAddress from)
    {
        if (length > _maxLineBytes + 2) return true;
        var n = _responder.Handle(datagram.AsSpan(0, length), SourceOf(from), Environment.TickCount64, answer);
        if (n == UdpResponder.Silence) return true;
        try
        {
            _socket.SendTo(answer.AsSpan(0, n), SocketFlags.None, from);
        }
        catch (SocketException)
        {
            // A full send buffer or an unreachable sender: the answer is lost, as a datagram may be.
        }
        catch (ObjectDisposedException)
        {
            return false;
        }
        return true;
    }

    /// <summary>The sender's IP address (whatever its port) as one number: IPv4 in the low 32 bits.</summary>
    private static UInt128 SourceOf(SocketAddress address)
    {
        var bytes = address.Buffer.Span;
        return address.Family == AddressFamily.InterNetwork
            ? (UInt128)System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(bytes[4..8])
            : System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes[8..24]);
    }
}

/// <summary>Asks the endpoint how many source addresses its rate table holds now (for tests and diagnostics).</summary>
internal sealed class GetUdpAddresses
{
    public static readonly GetUdpAddresses Instance = new();

    private GetUdpAddresses() { }
}
