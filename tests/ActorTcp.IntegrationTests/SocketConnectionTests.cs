using System.Net;
using System.Net.Sockets;
using ActorTcp.Transport;
using Akka.TestKit.Xunit2;

namespace ActorTcp.IntegrationTests;

/// <summary>The transport on its own, over a real socket pair on loopback, with a probe for its session.</summary>
public sealed class SocketConnectionTests : TestKit
{
    [Fact]
    public async Task A_file_range_the_kernel_cannot_take_at_once_shows_its_unsent_bytes_shrink_as_the_client_reads()
    {
        const int length = 32 << 20;
        var path = Path.Combine(Directory.CreateTempSubdirectory("actortcp-unsent-").FullName, "zeros.bin");
        using (var create = File.Create(path)) create.SetLength(length);
        var (client, accepted) = await ConnectedPairAsync();
        using var clientSocket = client;
        using var acceptedSocket = accepted;
        var connection = new SocketConnection(accepted);
        var session = CreateTestProbe();
        connection.Start(session.Ref);
        try
        {
            using var file = File.OpenHandle(path);
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
        finally
        {
            connection.Close();
            File.Delete(path);
            Directory.Delete(Path.GetDirectoryName(path)!);
        }
    }

    [Fact]
    public async Task A_range_the_kernel_takes_at_once_or_that_runs_past_the_end_of_the_file_leaves_no_delay_on()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("actortcp-nodelay-").FullName, "ten.bin");
        await File.WriteAllBytesAsync(path, "0123456789"u8.ToArray());
        var (client, accepted) = await ConnectedPairAsync();
        using var clientSocket = client;
        using var acceptedSocket = accepted;
        var connection = new SocketConnection(accepted);
        var session = CreateTestProbe();
        connection.Start(session.Ref);
        try
        {
            using var file = File.OpenHandle(path);
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
        finally
        {
            connection.Close();
            File.Delete(path);
            Directory.Delete(Path.GetDirectoryName(path)!);
        }
    }

    /// <summary>A client socket and the server's end of its connection, over loopback.</summary>
    private static async Task<(Socket Client, Socket Accepted)> ConnectedPairAsync()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen(1);
        var client = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await client.ConnectAsync(listener.LocalEndPoint!);
        return (client, await listener.AcceptAsync());
    }
}
