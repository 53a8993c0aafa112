// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Net;
using System.Net.Sockets;
using ActorTcp.Sessions;
using Akka.Actor;
using Microsoft.Extensions.Logging;

namespace ActorTcp.Transport;

/// <summary>A connection the acceptor took; the listener admits it or refuses it.</summary>
internal sealed record SocketAccepted(Socket Socket, ListenerKind Listener);

/// <summary>
/// A listening socket and its accept loop, which hands each new connection to the listener actor. Out of
/// descriptors it waits and tries again, so the listener recovers by itself once descriptors free up.
/// </summary>
internal sealed class SocketAcceptor : IDisposable
{
    private static readonly TimeSpan RetryDelay = TimeSpan.FromMilliseconds(10);
    private static readonly TimeSpan WarningInterval = TimeSpan.FromSeconds(10);

    private readonly Socket _socket;

    private SocketAcceptor(Socket socket) => _socket = socket;

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    /// <summary>Binds and listens; throws <see cref="SocketException"/> if the address cannot be had.</summary>
    public static SocketAcceptor Listen(IPEndPoint endpoint, int backlog, bool reuseAddress)
    {
        var socket = new Socket(endpoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, reuseAddress);
            socket.Bind(endpoint);
            socket.Listen(backlog);
            return new SocketAcceptor(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Start(IActorRef listener, ListenerKind kind, ILogger logger) => _ = AcceptLoopAsync(listener, kind, logger);

    private async Task AcceptLoopAsync(IActorRef listener, ListenerKind kind, ILogger logger)
    {
        var lastWarning = DateTime.MinValue;
        while (true)
        {
            try
            {
                var client = await _socket.AcceptAsync();
                listener.Tell(new SocketAccepted(client, kind), ActorRefs.NoSender);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode == SocketError.OperationAborted)
            {
                return;
            }
            catch (SocketException e)
            {
                // Typically out of descriptors: the connection waits in the backlog until one frees up.
                if (DateTime.UtcNow - lastWarning > WarningInterval)
                {
                    lastWarning = DateTime.UtcNow;
                    logger.LogWarning("Accepting on {Endpoint} failed ({Error}); retrying every {Delay} ms",
                        LocalEndPoint, e.SocketErrorCode, RetryDelay.TotalMilliseconds);
                }
                await Task.Delay(RetryDelay);
            }
        }
    }

    public void Dispose() => _socket.Dispose();
}
