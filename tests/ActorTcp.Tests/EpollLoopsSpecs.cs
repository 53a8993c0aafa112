using System.Net;
using System.Net.Sockets;
using ActorTcp.Transport;

namespace ActorTcp.Tests;

/// <summary>The epoll loops' slot table, over real sockets: a slot given back and reused never carries its old socket's events.</summary>
public sealed class EpollLoopsSpecs
{
    /// <summary>Counts the readable events it is told of.</summary>
    private sealed class Recorder : IPollable
    {
        private int _reads;
        private readonly SemaphoreSlim _readable = new(0);

        public int Reads => Volatile.Read(ref _reads);

        public void OnReady(bool readable, bool writable, bool ended)
        {
            if (!readable) return;
            Interlocked.Increment(ref _reads);
            _readable.Release();
        }

        public Task<bool> ReadableAsync() => _readable.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task An_event_of_a_socket_whose_slot_was_given_back_never_reaches_the_socket_that_reuses_the_slot()
    {
        Assert.True(EpollLoops.Supported, "the epoll loops run on Linux x64, where this suite runs");
        var loops = EpollLoops.Instance;
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(16);
        var sockets = new List<Socket>();
        try
        {
            (Socket Client, Socket Server) Pair()
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(client);
                client.Connect(listener.LocalEndPoint!);
                var server = listener.Accept();
                sockets.Add(server);
                return (client, server);
            }

            // The old socket's slot goes back (its descriptor stays in epoll, as between a release and the close that
            // follows it), and the new socket takes it at once: the same slot, a newer generation. Other tests may
            // register meanwhile and take the slot first; then try again.
            var (oldClient, oldServer) = Pair();
            var (newClient, newServer) = Pair();
            var gone = new Recorder();
            var reuser = new Recorder();
            EpollLoops.Registration old = default, reused = default;
            for (var attempt = 0; attempt < 10; attempt++)
            {
                old = loops.Register((int)oldServer.Handle, gone, edges: true);
                loops.Forget(old);
                reused = loops.Register((int)newServer.Handle, reuser, edges: true);
                if ((uint)reused.Token == (uint)old.Token) break;
                loops.Unregister((int)newServer.Handle, reused);
                loops.Unregister((int)oldServer.Handle, old);
            }
            Assert.Equal((uint)old.Token, (uint)reused.Token);
            Assert.NotEqual(old.Token, reused.Token);

            // A fence on every loop, readable after the old socket: once each has been told, each loop has handled
            // whatever event the old socket's bytes brought (a loop handles its events in the order they came).
            var fences = new Dictionary<int, (Socket Client, Socket Server, Recorder Recorder, EpollLoops.Registration Registration)>();
            for (var i = 0; i < 64 && fences.Count < Environment.ProcessorCount; i++)
            {
                var (client, server) = Pair();
                var recorder = new Recorder();
                var registration = loops.Register((int)server.Handle, recorder, edges: true);
                if (!fences.TryAdd(registration.Epoll, (client, server, recorder, registration)))
                    loops.Unregister((int)server.Handle, registration);
            }
            Assert.Equal(Environment.ProcessorCount, fences.Count);

            oldClient.Send("x"u8);
            foreach (var fence in fences.Values) fence.Client.Send("x"u8);
            foreach (var fence in fences.Values) Assert.True(await fence.Recorder.ReadableAsync());
            Assert.Equal(0, reuser.Reads);
            Assert.Equal(0, gone.Reads);

            // The socket now in the slot is still told of its own bytes.
            newClient.Send("y"u8);
            Assert.True(await reuser.ReadableAsync());
            Assert.Equal(1, reuser.Reads);

            foreach (var fence in fences.Values) loops.Unregister((int)fence.Server.Handle, fence.Registration);
            loops.Unregister((int)newServer.Handle, reused);
        }
        finally
        {
            foreach (var socket in sockets) socket.Dispose();
        }
    }
}
