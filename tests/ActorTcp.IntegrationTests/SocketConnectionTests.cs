using System.Net;
using System.Net.Sockets;
using ActorTcp.Transport;
using Akka.TestKit;
using Akka.TestKit.Xunit2;

namespace ActorTcp.IntegrationTests;

/// <summary>The transport on its own, over a real socket pair on loopback, with a probe for its session.</summary>
public sealed class SocketConnectionTests : TestKit
{
    [Fact]
    public async Task A_file_range_the_kernel_cannot_take_at_once_shows_its_unsent_bytes_shrink_as_the_client_reads()
    {
        const int length = 32 << 20;
        await using var wire = await Wire.StartAsync(this, path => { using var create = File.Create(path); create.SetLength(length); });
        var (client, accepted, connection, session) = (wire.Client, wire.Accepted, wire.Connection, wire.Session);
        using var file = File.OpenHandle(wire.FilePath);
        Assert.True(connection.CanSendFile);
        Assert.Equal(0, connection.Unsent);

        // 32 MiB to a client that reads nothing yet: more than the two kernels hold between them. While the
        // range waits, Nagle's algorithm lets short segments fill up.
        Assert.True(accepted.NoDelay);
        Assert.False(connection.SendFile(file, 0, length));
        var waiting = connection.Unsent;
        Assert.InRange(waiting, 1, length);
        Assert.False(accepted.NoDelay);

        // The client takes some: the loop sends more on the writable event, and less is left.
        var buffer = new byte[1 << 20];
        long read = 0;
        while (read < 8 << 20) read += await client.ReceiveAsync(buffer, SocketFlags.None);
        await AwaitConditionAsync(() => Task.FromResult(connection.Unsent < waiting), TimeSpan.FromSeconds(10));

        // And all of it: the range completes, and nothing is left unsent.
        while (read < length)
        {
            var n = await client.ReceiveAsync(buffer, SocketFlags.None);
            Assert.NotEqual(0, n);
            read += n;
        }
        session.ExpectMsg<WriteCompleted>(TimeSpan.FromSeconds(10));
        Assert.Equal(0, connection.Unsent);
        // Replies after the download leave at once again.
        Assert.True(accepted.NoDelay);
    }

    [Fact]
    public async Task A_range_the_kernel_takes_at_once_or_that_runs_past_the_end_of_the_file_leaves_no_delay_on()
    {
        await using var wire = await Wire.StartAsync(this, path => File.WriteAllBytes(path, "0123456789"u8.ToArray()));
        var (client, accepted, connection, session) = (wire.Client, wire.Accepted, wire.Connection, wire.Session);
        using var file = File.OpenHandle(wire.FilePath);
        Assert.True(connection.SendFile(file, 0, 10));
        Assert.True(accepted.NoDelay);

        // Asked for more than the file holds: the kernel sends what there is, and the session hears the file ended.
        Assert.False(connection.SendFile(file, 4, 100));
        session.ExpectMsg<FileEnded>(TimeSpan.FromSeconds(10));
        Assert.True(accepted.NoDelay);

        var received = new byte[16];
        var read = 0;
        while (read < 16) read += await client.ReceiveAsync(received.AsMemory(read), SocketFlags.None);
        Assert.Equal("0123456789456789"u8.ToArray(), received);
    }

    [Fact]
    public async Task The_session_reads_in_its_own_turn_and_hears_of_more_bytes_only_when_it_asks_again()
    {
        await using var wire = await Wire.StartAsync(this, _ => { });
        var (client, connection, session) = (wire.Client, wire.Connection, wire.Session);
        var buffer = new byte[16 * 1024];

        await client.SendAsync("one\n"u8.ToArray(), SocketFlags.None);
        session.ExpectMsg<Readable>(TimeSpan.FromSeconds(10));
        Assert.Equal("one\n", System.Text.Encoding.ASCII.GetString(buffer, 0, connection.Read(buffer)));

        // Pull: what comes next waits for the session's ask, and a Readable already read from gives nothing more.
        await client.SendAsync("two\n"u8.ToArray(), SocketFlags.None);
        session.ExpectNoMsg(TimeSpan.FromMilliseconds(200));
        Assert.Equal(0, connection.Read(buffer));
        connection.ResumeReading();
        session.ExpectMsg<Readable>(TimeSpan.FromSeconds(10));
        Assert.Equal("two\n", System.Text.Encoding.ASCII.GetString(buffer, 0, connection.Read(buffer)));

        // More than one buffer at once: a full read leaves the socket readable, and the next ask is told so at once
        // (edge-triggered, no new event would come for bytes already there).
        var big = new byte[buffer.Length + 100];
        Array.Fill(big, (byte)'x');
        await client.SendAsync(big, SocketFlags.None);
        var taken = 0;
        while (taken < big.Length)
        {
            connection.ResumeReading();
            session.ExpectMsg<Readable>(TimeSpan.FromSeconds(10));
            var n = connection.Read(buffer);
            Assert.All(buffer.AsSpan(0, n).ToArray(), b => Assert.Equal((byte)'x', b));
            taken += n;
        }
        Assert.Equal(big.Length, taken);
    }

    [Fact]
    public async Task A_half_close_while_a_readable_is_on_its_way_still_finds_the_clients_fin()
    {
        // The client's bytes and its FIN are there before the connection starts (the server's end is in CLOSE_WAIT):
        // one event brings them both, and no other event comes after it.
        await using var wire = await Wire.StartAsync(this, _ => { }, async (client, accepted) =>
        {
            await client.SendAsync("bye\n"u8.ToArray(), SocketFlags.None);
            client.Shutdown(SocketShutdown.Send);
            var info = new byte[8];
            await AwaitConditionAsync(() =>
            {
                accepted.GetRawSocketOption(6 /* IPPROTO_TCP */, 11 /* TCP_INFO */, info);
                return Task.FromResult(info[0] == 8 /* tcpi_state: TCP_CLOSE_WAIT */);
            }, TimeSpan.FromSeconds(10));
        });
        var (connection, session) = (wire.Connection, wire.Session);
        session.ExpectMsg<Readable>(TimeSpan.FromSeconds(10));

        // The session closes before it reads: the connection looks for the client's FIN itself, finds it behind
        // the unread bytes, and the connection ends gracefully. The Readable, read late, hands over nothing.
        // (The loop may find the FIN first, as the state change our FIN causes brings an event: PeerClosed comes first then.)
        connection.HalfClose();
        var closed = (Closed)session.FishForMessage(message => message is Closed, TimeSpan.FromSeconds(10));
        Assert.Equal(CloseKind.Graceful, closed.Kind);
        Assert.Equal(0, connection.Read(new byte[16]));
    }

    /// <summary>
    /// A file in a directory of its own, a client connected over loopback, and the server's end of the connection
    /// behind a <see cref="SocketConnection"/> started with a probe for its session; all gone when disposed.
    /// </summary>
    private sealed class Wire : IAsyncDisposable
    {
        private Wire(string filePath, Socket client, Socket accepted, TestProbe session)
        {
            FilePath = filePath;
            Client = client;
            Accepted = accepted;
            Session = session;
            Connection = new SocketConnection(accepted);
            Connection.Start(session.Ref);
        }

        public string FilePath { get; }
        public Socket Client { get; }
        public Socket Accepted { get; }
        public SocketConnection Connection { get; }
        public TestProbe Session { get; }

        /// <summary><paramref name="beforeStart"/>, if any, is given the client and the server's end before the connection is started.</summary>
        public static async Task<Wire> StartAsync(TestKit kit, Action<string> writeFile, Func<Socket, Socket, Task>? beforeStart = null)
        {
            var filePath = Path.Combine(Directory.CreateTempSubdirectory("actortcp-connection-").FullName, "file.bin");
            writeFile(filePath);
            using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            listener.Listen(1);
            var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await client.ConnectAsync(listener.LocalEndPoint!);
            var accepted = await listener.AcceptAsync();
            if (beforeStart is not null) await beforeStart(client, accepted);
            return new Wire(filePath, client, accepted, kit.CreateTestProbe());
        }

        public ValueTask DisposeAsync()
        {
            Connection.Close();
            Accepted.Dispose();
            Client.Dispose();
            Directory.Delete(Path.GetDirectoryName(FilePath)!, recursive: true);
            return ValueTask.CompletedTask;
        }
    }
}
