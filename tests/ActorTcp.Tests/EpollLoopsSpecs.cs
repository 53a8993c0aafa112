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

    /// <summary>Records the thread each readable event is told on.</summary>
    private sealed class ThreadRecorder : IPollable
    {
        private readonly System.Collections.Concurrent.BlockingCollection<string> _threads = new();

        public void OnReady(bool readable, bool writable, bool ended)
        {
            if (readable) _threads.Add(Thread.CurrentThread.Name ?? "");
        }

        public string NextReadableThread()
        {
            Assert.True(_threads.TryTake(out var name, TimeSpan.FromSeconds(10)), "no readable event within 10 s");
            return name!;
        }
    }

    /// <summary>
    /// Two loops of a spec's own, apart from the process's: the second counts as idle after any pass that took under a
    /// tenth of the time since its last (an idle window of zero), and the first counts as busy once it worked for half
    /// of a millisecond's window. With a listener for the sockets the spec registers on them.
    /// </summary>
    private sealed class TwoLoops : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _sockets = [];

        public TwoLoops(bool mayRest)
        {
            Loops = new EpollLoops(2, busyWindow: TimeSpan.FromMilliseconds(1), idleWindow: TimeSpan.Zero, mayRest);
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(16);
        }

        public EpollLoops Loops { get; }

        /// <summary>A connected pair whose server side is registered on the second loop.</summary>
        public (Socket Client, Socket Server, ThreadRecorder Recorder) OnSecondLoop()
        {
            while (true)
            {
                var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                _sockets.Add(client);
                client.Connect(_listener.LocalEndPoint!);
                var server = _listener.Accept();
                _sockets.Add(server);
                var recorder = new ThreadRecorder();
                if (Loops.LoopOf(Loops.Register((int)server.Handle, recorder, edges: true)) == 1) return (client, server, recorder);
            }
        }

        public void Dispose()
        {
            foreach (var socket in _sockets) socket.Dispose();
            _listener.Dispose();
            Loops.Stop();
        }
    }

    [Fact]
    public void A_resting_loops_sockets_are_served_by_the_first_loop_until_a_busy_first_loop_wakes_it()
    {
        Assert.True(EpollLoops.Supported, "the epoll loops run on Linux x64, where this suite runs");
        using var two = new TwoLoops(mayRest: true);
        var loops = two.Loops;
        var (client, server, recorder) = two.OnSecondLoop();
        // The second loop rests at the end of a pass; a byte now and then on another of its sockets gives it passes.
        var (poker, poked, _) = two.OnSecondLoop();
        var idle = System.Diagnostics.Stopwatch.StartNew();
        while (!loops.IsResting(1) && idle.Elapsed < TimeSpan.FromSeconds(10))
        {
            poker.Send("."u8);
            poked.Receive(new byte[16]);
            SpinWait.SpinUntil(() => loops.IsResting(1), TimeSpan.FromMilliseconds(10));
        }
        Assert.True(loops.IsResting(1), "the second loop never rested");
        client.Send("a"u8);
        Assert.Equal("actortcp-epoll-0", recorder.NextReadableThread());
        server.Receive(new byte[16]);

        // Work that keeps the first loop busy (queued on it: a resting loop is passed over) wakes the second.
        for (var i = 0; i < 100 && loops.Returns(1) == 0; i++)
        {
            loops.Execute(new Akka.Dispatch.ActionRunnable(() =>
            {
                var until = System.Diagnostics.Stopwatch.GetTimestamp() + System.Diagnostics.Stopwatch.Frequency / 100;
                while (System.Diagnostics.Stopwatch.GetTimestamp() < until) Thread.SpinWait(100);
            }));
            SpinWait.SpinUntil(() => loops.Returns(1) > 0, TimeSpan.FromMilliseconds(50));
        }
        Assert.True(loops.Returns(1) > 0, "the busy first loop never woke the second");
        client.Send("b"u8);
        Assert.Equal("actortcp-epoll-1", recorder.NextReadableThread());
    }

    [Fact]
    public void Loops_that_may_not_rest_serve_their_own_sockets_however_idle()
    {
        Assert.True(EpollLoops.Supported, "the epoll loops run on Linux x64, where this suite runs");
        // As with ACTORTCP_LOOP_REST=off, with the idle window that makes the spec above rest after any pass.
        using var two = new TwoLoops(mayRest: false);
        var (client, server, recorder) = two.OnSecondLoop();
        for (var i = 0; i < 20; i++)
        {
            client.Send("."u8);
            Assert.Equal("actortcp-epoll-1", recorder.NextReadableThread());
            server.Receive(new byte[16]);
            Assert.False(two.Loops.IsResting(1));
        }
        Assert.Equal(0, two.Loops.Returns(1));
    }

    [Fact]
    public void A_loops_load_is_the_share_of_each_window_it_spent_working()
    {
        var load = new EpollLoops.LoopLoad(start: 1_000);
        Assert.Equal(-1, load.Share(passStart: 1_100, passEnd: 1_200, window: 1_000));
        // The window ends with the pass that reaches its length: 100 + 300 of 1,500 ticks.
        Assert.Equal(400.0 / 1_500, load.Share(passStart: 2_200, passEnd: 2_500, window: 1_000), precision: 6);
        // The next window starts where that pass ended.
        Assert.Equal(0.5, load.Share(passStart: 3_000, passEnd: 3_500, window: 1_000), precision: 6);
    }
}
