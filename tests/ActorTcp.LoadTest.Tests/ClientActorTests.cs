using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using ActorTcp.LoadTest.Clients;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using ActorTcp.Protocol;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace ActorTcp.LoadTest.Tests;

/// <summary>
/// One client actor, on the server's own transport, against a scripted server on 127.0.0.1: each step waits for the
/// client's request before the server answers, so the exchange is the same on every run.
/// </summary>
public sealed class ClientActorTests : TestKit
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Download_client_over_binary_framing_counts_whole_files_and_a_clean_quit_as_success()
    {
        using var listener = Listen(out int port);
        var run = Run(new LoadOptions { Ports = [port], Scenario = Scenario.Download, Framing = Framing.Binary, File = "a b.txt" });
        var client = MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);
        using var server = await listener.AcceptAsync(cancel.Token);

        await SendAsync(server, cancel.Token, ServerFrames.Frame(Replies.Welcome), ServerFrames.Frame(Replies.AskName));
        Assert.Equal("lt0", await ReadFrameAsync(server, cancel.Token));
        await SendAsync(server, cancel.Token, ServerFrames.Frame(Replies.Hello("lt0")));
        Assert.Equal("GET \"a b.txt\"", await ReadFrameAsync(server, cancel.Token));
        await SendAsync(server, cancel.Token, ServerFrames.Frame("OK 5"), ServerFrames.Frame("he"), ServerFrames.Frame("llo"));

        // The client asks again at once; stopping it now makes it say QUIT behind that second GET.
        Assert.Equal("GET \"a b.txt\"", await ReadFrameAsync(server, cancel.Token));
        client.Tell(StopClient.Instance);
        Assert.Equal("QUIT", await ReadFrameAsync(server, cancel.Token));
        await SendAsync(server, cancel.Token, ServerFrames.Frame("OK 0"), ServerFrames.Frame(Replies.Goodbye));
        server.Shutdown(SocketShutdown.Both);

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.True(finished.Succeeded, string.Join(", ", run.Metrics.Errors.Keys));
        Assert.Empty(run.Metrics.Errors);
        Assert.Equal(5, run.Metrics.DownloadedBytes);
        Assert.Equal(2, run.Metrics.OpCount(Op.Download));
    }

    [Fact]
    public async Task Text_client_that_gets_someone_elses_hello_fails_with_a_wrong_reply()
    {
        using var listener = Listen(out int port);
        var run = Run(new LoadOptions { Ports = [port], Scenario = Scenario.Echo });
        MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);
        using var server = await listener.AcceptAsync(cancel.Token);

        await SendAsync(server, cancel.Token, "Welcome!\r\nWhat's your name?\r\n"u8.ToArray());
        await SendAsync(server, cancel.Token, "Hello neo!\r\n"u8.ToArray());

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.False(finished.Succeeded);
        Assert.Equal(1, Assert.Single(run.Metrics.Errors, e => e.Key == ErrorKinds.WrongReply).Value);
    }

    [Fact]
    public async Task With_reconnect_a_client_the_server_sends_away_comes_back_redoes_its_dialog_and_counts_no_error()
    {
        using var listener = Listen(out int port);
        var options = new LoadOptions { Ports = [port], Scenario = Scenario.Idle, Heartbeat = TimeSpan.FromHours(1), Reconnect = true };
        var run = Run(options);
        var client = MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);

        using (var first = await listener.AcceptAsync(cancel.Token))
        {
            await GreetAsync(first, cancel.Token);
            // As a draining server does: its last line, then its close.
            await SendAsync(first, cancel.Token, "ERR server shutting down\n"u8.ToArray());
            first.Shutdown(SocketShutdown.Both);
        }

        using var second = await listener.AcceptAsync(cancel.Token);
        await GreetAsync(second, cancel.Token);
        client.Tell(StopClient.Instance);
        Assert.Equal("QUIT\n", Encoding.UTF8.GetString(await ReadExactlyAsync(second, 5, cancel.Token)));
        await SendAsync(second, cancel.Token, "Goodbye!\n"u8.ToArray());
        second.Shutdown(SocketShutdown.Both);

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.True(finished.Succeeded, string.Join(", ", run.Metrics.Errors.Keys));
        Assert.Empty(run.Metrics.Errors);
        Assert.Equal(1, run.Metrics.Reconnects);
        Assert.Equal(1, run.Metrics.OpCount(Op.Reconnect));
        Assert.Equal(2, run.Metrics.Connected);
        Assert.Equal(0, run.HeartbeatClock.Registered + run.CheckClock.Registered);
    }

    [Fact]
    public async Task Idle_client_pings_once_per_heartbeat_and_stops_beating_once_disconnected()
    {
        using var listener = Listen(out int port);
        var run = Run(new LoadOptions { Ports = [port], Scenario = Scenario.Idle, Heartbeat = TimeSpan.FromMilliseconds(300) });
        MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);
        using (var server = await listener.AcceptAsync(cancel.Token))
        {
            await GreetAsync(server, cancel.Token);

            Assert.Equal("PING\n", Encoding.UTF8.GetString(await ReadExactlyAsync(server, 5, cancel.Token)));
            // Named, it beats on the heartbeat clock only.
            Assert.Equal((1, 0), (run.HeartbeatClock.Registered, run.CheckClock.Registered));
            await SendAsync(server, cancel.Token, "PONG\n"u8.ToArray());
            var watch = System.Diagnostics.Stopwatch.StartNew();
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal("PING\n", Encoding.UTF8.GetString(await ReadExactlyAsync(server, 5, cancel.Token)));
                await SendAsync(server, cancel.Token, "PONG\n"u8.ToArray());
            }
            // Never early on average; a busy machine may make it late.
            Assert.InRange(watch.Elapsed.TotalMilliseconds / 4, 270, 600);
            server.Shutdown(SocketShutdown.Both);
        }

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.False(finished.Succeeded);
        Assert.Equal(5, run.Metrics.OpCount(Op.Ping));
        // Off both clocks: nothing more is sent to it.
        Assert.Equal(0, run.HeartbeatClock.Registered);
        Assert.Equal(0, run.CheckClock.Registered);
    }

    [Fact]
    public async Task An_err_line_the_server_does_not_follow_with_a_close_is_a_wrong_reply_once_its_grace_is_over()
    {
        using var listener = Listen(out int port);
        var run = Run(new LoadOptions { Ports = [port], Scenario = Scenario.Echo, Payload = 4 });
        MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);
        using var server = await listener.AcceptAsync(cancel.Token);
        await GreetAsync(server, cancel.Token);
        Assert.Equal("ECHO abcd\n", Encoding.UTF8.GetString(await ReadExactlyAsync(server, 10, cancel.Token)));
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await SendAsync(server, cancel.Token, "ERR no\n"u8.ToArray());

        // Not before the 2 s the server is given to close after its ERR line.
        await ExpectWrongReplyAfterGraceAsync(run, watch);
    }

    /// <summary>The client fails on the ERR line as a wrong reply, and not before the 2 s grace counted from <paramref name="sinceErr"/>.</summary>
    private async Task ExpectWrongReplyAfterGraceAsync(RunContext run, System.Diagnostics.Stopwatch sinceErr)
    {
        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.False(finished.Succeeded);
        Assert.Equal(1, Assert.Single(run.Metrics.Errors, e => e.Key == ErrorKinds.WrongReply).Value);
        Assert.True(sinceErr.Elapsed >= TimeSpan.FromSeconds(1.9), $"failed after {sinceErr.Elapsed.TotalMilliseconds:F0} ms");
    }

    [Fact]
    public async Task An_err_grace_of_a_connection_that_is_gone_does_not_cut_short_the_grace_of_the_next()
    {
        using var listener = Listen(out int port);
        var options = new LoadOptions { Ports = [port], Scenario = Scenario.Idle, Heartbeat = TimeSpan.FromHours(1), Reconnect = true };
        var run = Run(options);
        MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);
        System.Diagnostics.Stopwatch firstErr;
        using (var first = await listener.AcceptAsync(cancel.Token))
        {
            await GreetAsync(first, cancel.Token);
            firstErr = System.Diagnostics.Stopwatch.StartNew();
            await SendAsync(first, cancel.Token, "ERR server shutting down\n"u8.ToArray());
            first.Shutdown(SocketShutdown.Both);
        }
        using var second = await listener.AcceptAsync(cancel.Token);
        await GreetAsync(second, cancel.Token);

        // An ERR on the new connection while the first connection's grace would still run for another second.
        var wait = TimeSpan.FromSeconds(1) - firstErr.Elapsed;
        Assert.True(wait > TimeSpan.Zero, $"reconnecting took {firstErr.Elapsed.TotalMilliseconds:F0} ms");
        await Task.Delay(wait, cancel.Token);
        var secondErr = System.Diagnostics.Stopwatch.StartNew();
        await SendAsync(second, cancel.Token, "ERR no\n"u8.ToArray());

        // Its own 2 s, not what was left of the first connection's.
        await ExpectWrongReplyAfterGraceAsync(run, secondErr);
    }

    [Fact]
    public async Task Without_reconnect_a_close_by_the_server_is_an_error()
    {
        using var listener = Listen(out int port);
        var run = Run(new LoadOptions { Ports = [port], Scenario = Scenario.Idle, Heartbeat = TimeSpan.FromHours(1) });
        MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);
        using (var server = await listener.AcceptAsync(cancel.Token))
        {
            await GreetAsync(server, cancel.Token);
            server.Shutdown(SocketShutdown.Both);
        }

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.False(finished.Succeeded);
        Assert.Equal(0, run.Metrics.Reconnects);
        Assert.Equal(1, run.Metrics.ErrorCount);
    }

    [Fact]
    public async Task Pipelined_requests_larger_than_the_socket_buffers_arrive_whole_and_in_order_with_the_quit_behind_them()
    {
        using var listener = Listen(out int port);
        const int Payload = 8 * 1024 * 1024;
        var options = new LoadOptions { Ports = [port], Scenario = Scenario.Echo, Pipeline = 2, Payload = Payload };
        var run = Run(options);
        var client = MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);
        using var server = await listener.AcceptAsync(cancel.Token);
        await GreetAsync(server, cancel.Token);

        // The server reads nothing until both requests are written: the kernel cannot take the first at once, so the
        // client holds it, and the second waits behind it.
        var request = run.EchoRequest;
        Assert.Equal(request, await ReadExactlyAsync(server, request.Length, cancel.Token));
        Assert.Equal(request, await ReadExactlyAsync(server, request.Length, cancel.Token));
        client.Tell(StopClient.Instance);
        Assert.Equal("QUIT\n", Encoding.UTF8.GetString(await ReadExactlyAsync(server, 5, cancel.Token)));
        var reply = request.AsSpan("ECHO ".Length).ToArray();
        await SendAsync(server, cancel.Token, reply, reply, "Goodbye!\n"u8.ToArray());
        server.Shutdown(SocketShutdown.Both);

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.True(finished.Succeeded, string.Join(", ", run.Metrics.Errors.Keys));
        Assert.Equal(2, run.Metrics.OpCount(Op.Echo));
        Assert.Equal(4 + 2 * request.Length + 5, run.Metrics.BytesOut);
    }

    [Fact]
    public async Task Churn_client_goes_round_on_a_new_connection_each_cycle_and_counts_every_cycle()
    {
        using var listener = Listen(out int port);
        var run = Run(new LoadOptions { Ports = [port], Scenario = Scenario.Churn });
        var client = MakeClient(run, 0);
        using var cancel = new CancellationTokenSource(Patience);
        for (var cycle = 1; cycle <= 4; cycle++)
        {
            using var server = await listener.AcceptAsync(cancel.Token);
            if (cycle == 4)
            {
                client.Tell(StopClient.Instance);
            }
            await GreetAsync(server, cancel.Token);
            Assert.Equal("QUIT\n", Encoding.UTF8.GetString(await ReadExactlyAsync(server, 5, cancel.Token)));
            await SendAsync(server, cancel.Token, "Goodbye!\n"u8.ToArray());
            server.Shutdown(SocketShutdown.Both);
        }

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.True(finished.Succeeded, string.Join(", ", run.Metrics.Errors.Keys));
        Assert.Empty(run.Metrics.Errors);
        Assert.Equal(4, run.Metrics.OpCount(Op.Cycle));
        Assert.Equal(4, run.Metrics.Connected);
        Assert.Equal(0, run.Metrics.ConnectedNow);
    }

    [Fact]
    public async Task Connect_that_the_server_never_answers_is_a_connect_timeout()
    {
        // A listener whose accept queue is full drops new SYNs, so a connect to it stays unanswered.
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var fillers = new List<Socket>();
        try
        {
            for (var connected = true; connected && fillers.Count < 16;)
            {
                var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                fillers.Add(filler);
                using var wait = new CancellationTokenSource(TimeSpan.FromMilliseconds(300));
                try
                {
                    await filler.ConnectAsync(listener.LocalEndPoint!, wait.Token);
                }
                catch (OperationCanceledException)
                {
                    connected = false;
                }
            }

            var options = new LoadOptions { Ports = [port], Scenario = Scenario.Echo, Timeout = TimeSpan.FromMilliseconds(500) };
            var run = Run(options);
            MakeClient(run, 0);

            var finished = await ExpectMsgAsync<ClientFinished>(Patience);
            Assert.False(finished.Succeeded);
            Assert.Equal(1, Assert.Single(run.Metrics.Errors, e => e.Key == "timeout: connect").Value);
            Assert.Equal(0, run.Metrics.Connected);
        }
        finally
        {
            fillers.ForEach(f => f.Dispose());
        }
    }

    [Fact]
    public async Task Connect_to_a_port_nobody_listens_on_is_counted_as_refused()
    {
        int port;
        using (Listen(out port))
        {
        }
        var run = Run(new LoadOptions { Ports = [port], Scenario = Scenario.Echo });
        MakeClient(run, 0);

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.False(finished.Succeeded);
        Assert.Equal(1, Assert.Single(run.Metrics.Errors, e => e.Key == "refused").Value);
        Assert.Equal(0, run.Metrics.Connected);
    }

    [Fact]
    public async Task Connect_from_a_source_address_reaches_the_server_from_that_address()
    {
        using var listener = Listen(out int port);
        var run = Run(new LoadOptions { Ports = [port], Scenario = Scenario.Dialog, SourceIps = 3 });
        MakeClient(run, 1);
        using var cancel = new CancellationTokenSource(Patience);
        using var server = await listener.AcceptAsync(cancel.Token);

        Assert.Equal(IPAddress.Parse("127.0.0.3"), ((IPEndPoint)server.RemoteEndPoint!).Address);
        await SendAsync(server, cancel.Token, "Welcome!\nWhat's your name?\n"u8.ToArray());
        Assert.Equal("lt1\n", Encoding.UTF8.GetString(await ReadExactlyAsync(server, 4, cancel.Token)));
        await SendAsync(server, cancel.Token, "Hello lt1!\n"u8.ToArray());
        Assert.Equal("QUIT\n", Encoding.UTF8.GetString(await ReadExactlyAsync(server, 5, cancel.Token)));
        await SendAsync(server, cancel.Token, "Goodbye!\n"u8.ToArray());
        server.Shutdown(SocketShutdown.Both);

        var finished = await ExpectMsgAsync<ClientFinished>(Patience);
        Assert.True(finished.Succeeded, string.Join(", ", run.Metrics.Errors.Keys));
        Assert.Equal(1, run.Metrics.OpCount(Op.Cycle));
    }

    /// <summary>Client <paramref name="index"/> of <paramref name="run"/>, made as the driver makes it (the run's Props, then its index).</summary>
    private IActorRef MakeClient(RunContext run, int index)
    {
        var client = ChildActorOf(ClientActor.Props(run));
        client.Tell(new StartClient(index));
        return client;
    }

    /// <summary>A run's shared context, its clients on their own mailbox as the generator runs them.</summary>
    private RunContext Run(LoadOptions options) => new(options, new LoadMetrics()) { Mailbox = ClientMailbox.Register(Sys) };

    /// <summary>The name dialog, from the server's side, for the client named lt0.</summary>
    private static async Task GreetAsync(Socket server, CancellationToken cancel)
    {
        await SendAsync(server, cancel, "Welcome!\nWhat's your name?\n"u8.ToArray());
        Assert.Equal("lt0\n", Encoding.UTF8.GetString(await ReadExactlyAsync(server, 4, cancel)));
        await SendAsync(server, cancel, "Hello lt0!\n"u8.ToArray());
    }

    private static Socket Listen(out int port)
    {
        var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        return listener;
    }

    private static async Task SendAsync(Socket socket, CancellationToken cancel, params byte[][] parts) =>
        await socket.SendAsync(parts.SelectMany(p => p).ToArray(), SocketFlags.None, cancel);

    private static async Task<string> ReadFrameAsync(Socket socket, CancellationToken cancel)
    {
        byte[] header = await ReadExactlyAsync(socket, 4, cancel);
        return Encoding.UTF8.GetString(await ReadExactlyAsync(socket, (int)BinaryPrimitives.ReadUInt32BigEndian(header), cancel));
    }

    private static async Task<byte[]> ReadExactlyAsync(Socket socket, int count, CancellationToken cancel)
    {
        var bytes = new byte[count];
        for (int at = 0; at < count;)
        {
            int n = await socket.ReceiveAsync(bytes.AsMemory(at), SocketFlags.None, cancel);
            if (n == 0)
            {
                throw new IOException($"the client closed after {at} of {count} bytes");
            }

            at += n;
        }

        return bytes;
    }
}
