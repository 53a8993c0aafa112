using System.Net;
using System.Net.Sockets;
using ActorTcp.LoadTest.Clients;
using ActorTcp.LoadTest.Metrics;
using ActorTcp.LoadTest.Options;
using Akka.Actor;
using Akka.TestKit.Xunit2;

namespace ActorTcp.LoadTest.Tests;

/// <summary>Counts bytes allocated in the whole process, so nothing else may run beside these tests.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ClientAllocationCollection
{
    public const string Name = "client allocations";
}

/// <summary>
/// What a simulated client allocates per request, counted across all threads (a machine-independent measure, unlike
/// RSS). The server is a blocking socket on a thread of its own with its buffers made up front, so it allocates
/// nothing per request and the count is the client's.
/// </summary>
[Collection(ClientAllocationCollection.Name)]
public sealed class ClientAllocationTests : TestKit
{
    [Fact]
    public void An_echo_round_trip_allocates_nothing_of_the_clients_own_in_steady_state()
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var port = ((IPEndPoint)listener.LocalEndPoint!).Port;
        var run = new RunContext(new LoadOptions { Ports = [port], Scenario = Scenario.Echo, Payload = 32 }, new LoadMetrics())
        {
            Mailbox = ClientMailbox.Register(Sys),
        };
        var client = ChildActorOf(ClientActor.Props(run));
        client.Tell(new StartClient(0));
        using var server = listener.Accept();
        var echoing = new Thread(() => Echo(server)) { IsBackground = true, Name = "echo server" };
        echoing.Start();

        // Warm enough that the compiler has finished with the echo path: its work would be counted too.
        WaitForEchoes(run.Metrics, 20_000);
        var before = GC.GetTotalAllocatedBytes(precise: true);
        var echoesBefore = run.Metrics.OpCount(Op.Echo);
        WaitForEchoes(run.Metrics, echoesBefore + 10_000);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;
        var perEcho = allocated / (double)(run.Metrics.OpCount(Op.Echo) - echoesBefore);

        client.Tell(StopClient.Instance);
        ExpectMsg<ClientFinished>(TimeSpan.FromSeconds(15));
        echoing.Join(TimeSpan.FromSeconds(15));
        Assert.Empty(run.Metrics.Errors);
        // The client reads into its thread's buffer (no Received message per read, which cost 38 B a round trip);
        // what is left is the process's background.
        Assert.True(perEcho <= 16, $"{perEcho:F1} bytes allocated per echo round trip");
    }

    private static void WaitForEchoes(LoadMetrics metrics, long count)
    {
        var deadline = Environment.TickCount64 + 30_000;
        while (metrics.OpCount(Op.Echo) < count)
        {
            // The message is made only on failure: a string per look would be counted as the client's.
            if (Environment.TickCount64 >= deadline) Assert.Fail($"only {metrics.OpCount(Op.Echo)} of {count} echoes in 30 s");
            Thread.Sleep(5);
        }
    }

    /// <summary>The server's side, without allocating: the dialog, then each ECHO line back until QUIT.</summary>
    private static void Echo(Socket server)
    {
        server.Send("Welcome!\nWhat's your name?\n"u8);
        var buffer = new byte[64 * 1024];
        var filled = 0;
        var named = false;
        while (true)
        {
            var n = server.Receive(buffer.AsSpan(filled));
            if (n == 0) return;
            filled += n;
            var start = 0;
            int end;
            while ((end = buffer.AsSpan(start, filled - start).IndexOf((byte)'\n')) >= 0)
            {
                var line = buffer.AsSpan(start, end + 1);
                start += end + 1;
                if (!named)
                {
                    named = true;
                    server.Send("Hello lt0!\n"u8);
                }
                else if (line.StartsWith("ECHO "u8))
                {
                    server.Send(line["ECHO ".Length..]);
                }
                else
                {
                    // QUIT (anything else leaves the client waiting, and its timeout is the test's failure).
                    server.Send("Goodbye!\n"u8);
                    server.Shutdown(SocketShutdown.Both);
                    return;
                }
            }
            buffer.AsSpan(start, filled - start).CopyTo(buffer);
            filled -= start;
        }
    }
}
