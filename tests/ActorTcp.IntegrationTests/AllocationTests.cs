using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>Counts bytes allocated in the whole process, so nothing else may run beside these tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AllocationCollection
{
    public const string Name = "allocations";
}

/// <summary>
/// What the server allocates, counted across all threads of a process that hosts it (a machine-independent
/// measure, unlike RSS, which moves with the GC's budget and so with the machine's cache sizes). The client is a
/// blocking socket with buffers made up front, so the count is the server's.
/// </summary>
[Collection(AllocationCollection.Name)]
public sealed class AllocationTests
{
    private const long MiB = 1024 * 1024;

    [Fact]
    public async Task An_echo_request_allocates_nothing_of_its_own_in_steady_state()
    {
        await using var server = await InProcessServer.StartAsync();
        using var client = Connect(server.TextPort);
        var buffer = new byte[64 * 1024];
        Dialog(client, buffer);
        var request = "ECHO steady state\n"u8.ToArray();
        var reply = "steady state\n".Length;

        // Warm enough that the compiler has finished with the request path: its work would be counted too.
        RoundTrips(client, request, reply, buffer, 20_000);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        RoundTrips(client, request, reply, buffer, 10_000);
        var perRequest = (GC.GetTotalAllocatedBytes(precise: true) - before) / 10_000.0;

        // The session reads into its thread's buffer and replies from its own: no message, buffer or copy per request.
        // What is left is the process's background (timers, the test host), well under 8 bytes a request.
        Assert.True(perRequest <= 8, $"{perRequest:F1} bytes allocated per echo request");
    }

    [Fact]
    public async Task Skipping_a_ten_megabyte_line_allocates_nothing_of_its_size()
    {
        await using var server = await InProcessServer.StartAsync();
        using var client = Connect(server.TextPort);
        var buffer = new byte[64 * 1024];
        Dialog(client, buffer);
        var chunk = Encoding.ASCII.GetBytes(new string('x', 64 * 1024));
        var before = GC.GetTotalAllocatedBytes(precise: true);
        for (var sent = 0L; sent < 10 * MiB; sent += chunk.Length) client.Send(chunk);
        client.Send("\nPING\n"u8);
        Assert.Equal("ERR line too long (max 4096 bytes)\nPONG\n", ReadText(client, buffer, "PONG\n"));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < MiB, $"{allocated / 1024} KiB allocated while skipping a 10 MiB line");
    }

    [Fact]
    public async Task Skipping_the_payload_of_a_four_gibibyte_frame_allocates_nothing_of_its_size()
    {
        await using var server = await InProcessServer.StartAsync();
        using var client = Connect(server.BinaryPort);
        var buffer = new byte[64 * 1024];
        ReadExactly(client, buffer, 4 + "Welcome!".Length + 4 + "What's your name?".Length);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        client.Send([0xFF, 0xFF, 0xFF, 0xFF]);
        var payload = new byte[64 * 1024];
        for (var i = 0; i < 160; i++) client.Send(payload);
        var error = "ERR frame too long (max 65536 bytes)";
        ReadExactly(client, buffer, 4 + error.Length);
        Assert.Equal(error, Encoding.UTF8.GetString(buffer, 4, error.Length));
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        Assert.True(allocated < MiB, $"{allocated / 1024} KiB allocated while skipping 10 MiB of a 4 GiB frame");
    }

    [Fact]
    public async Task Stalled_downloads_read_a_chunk_ahead_of_their_readers_not_the_whole_file()
    {
        const int Downloads = 20;
        const long FileBytes = 64 * MiB;
        var folder = Directory.CreateTempSubdirectory("actortcp-stall-").FullName;
        try
        {
            await using (var file = File.Create(Path.Combine(folder, "big.bin"))) file.SetLength(FileBytes);
            await using var server = await InProcessServer.StartAsync($"actor-tcp.files-root = \"{folder}\"");
            var buffer = new byte[64 * 1024];
            var readers = new List<Socket>();
            try
            {
                // Each reader asks for the file and then reads nothing: its transfer stalls once the socket buffers
                // are full, and must not go on reading the file into memory meanwhile.
                var before = GC.GetTotalAllocatedBytes(precise: true);
                for (var i = 0; i < Downloads; i++)
                {
                    var reader = Connect(server.TextPort);
                    reader.ReceiveBufferSize = 64 * 1024;
                    readers.Add(reader);
                    Dialog(reader, buffer);
                    reader.Send("GET big.bin\n"u8);
                }
                await Task.Delay(TimeSpan.FromSeconds(1));
                var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
                Assert.True(allocated < Downloads * 512 * 1024,
                    $"{allocated / 1024} KiB allocated by {Downloads} stalled downloads of a {FileBytes / MiB} MiB file");
            }
            finally
            {
                foreach (var reader in readers) reader.Dispose();
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static Socket Connect(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        {
            NoDelay = true,
            ReceiveTimeout = 15_000,
            SendTimeout = 15_000,
        };
        socket.Connect(new IPEndPoint(IPAddress.Loopback, port));
        return socket;
    }

    private static void Dialog(Socket client, byte[] buffer)
    {
        ReadText(client, buffer, "What's your name?\n");
        client.Send("neo\n"u8);
        ReadText(client, buffer, "Hello neo!\n");
    }

    private static void RoundTrips(Socket client, byte[] request, int reply, byte[] buffer, int count)
    {
        for (var i = 0; i < count; i++)
        {
            client.Send(request);
            ReadExactly(client, buffer, reply);
        }
    }

    private static void ReadExactly(Socket client, byte[] buffer, int count)
    {
        var read = 0;
        while (read < count)
        {
            var n = client.Receive(buffer, read, count - read, SocketFlags.None);
            if (n == 0) throw new IOException($"closed after {read} of {count} bytes");
            read += n;
        }
    }

    /// <summary>Reads until the text read so far ends with <paramref name="end"/>; for the few lines around a measurement.</summary>
    private static string ReadText(Socket client, byte[] buffer, string end)
    {
        var text = new StringBuilder();
        while (!text.ToString().EndsWith(end, StringComparison.Ordinal))
        {
            var n = client.Receive(buffer, 0, buffer.Length, SocketFlags.None);
            if (n == 0) throw new IOException($"closed after: {text}");
            text.Append(Encoding.UTF8.GetString(buffer, 0, n));
        }
        return text.ToString();
    }
}
