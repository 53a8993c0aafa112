// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>A development certificate made with openssl, as docs/PROTOCOL.md shows a user, and a folder with a large file.</summary>
public sealed class TlsMaterial : IAsyncLifetime
{
    public const int LargeFileBytes = 6 * 1024 * 1024 + 123;

    public string Folder { get; } = Directory.CreateTempSubdirectory("actortcp-tls-").FullName;

    public string Certificate => Path.Combine(Folder, "cert.pem");

    public string Key => Path.Combine(Folder, "key.pem");

    public string Files => Path.Combine(Folder, "files");

    public byte[] LargeFile { get; } = RandomNumberGenerator.GetBytes(LargeFileBytes);

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(Files);
        await File.WriteAllBytesAsync(Path.Combine(Files, "large.bin"), LargeFile);
        var (exit, _, stderr) = await Tools.RunAsync("openssl", "",
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", Key, "-out", Certificate);
        Assert.True(exit == 0, "openssl could not make a certificate: " + stderr);
    }

    public Task DisposeAsync()
    {
        Directory.Delete(Folder, recursive: true);
        return Task.CompletedTask;
    }

    public string[] Flags(params string[] more) =>
        ["--tls-port", "0", "--tls-cert", Certificate, "--tls-key", Key, "--files", Files, .. more];
}

/// <summary>The TLS listener: the same session inside TLS, by .NET's SslStream and by openssl and ncat as users run them.</summary>
public sealed class TlsTests(TlsMaterial tls) : IClassFixture<TlsMaterial>
{
    private static async Task<(SslStream Ssl, Socket Socket)> ConnectTlsAsync(int port)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(IPAddress.Loopback, port);
        // The test's own certificate: accepted by its thumbprint-free shape, since a fresh one is made per run.
        var ssl = new SslStream(new NetworkStream(socket, ownsSocket: true), false, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("localhost");
        return (ssl, socket);
    }

    private static async Task<string> ReadLineAsync(Stream stream)
    {
        var bytes = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one) == 1 && one[0] != (byte)'\n') bytes.Add(one[0]);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    [Fact]
    public async Task The_dialog_commands_and_a_multi_megabyte_get_arrive_byte_exact_over_tls()
    {
        await using var server = await ServerProcess.StartAsync("", tls.Flags());
        var (ssl, _) = await ConnectTlsAsync(server.TlsPort);
        await using (ssl)
        {
            Assert.Equal("Welcome!", await ReadLineAsync(ssl));
            Assert.Equal("What's your name?", await ReadLineAsync(ssl));
            await ssl.WriteAsync(Encoding.UTF8.GetBytes("José\nPING\nECHO over tls\nGET large.bin\nPING\n"));
            Assert.Equal("Hello José!", await ReadLineAsync(ssl));
            Assert.Equal("PONG", await ReadLineAsync(ssl));
            Assert.Equal("over tls", await ReadLineAsync(ssl));
            Assert.Equal($"OK {TlsMaterial.LargeFileBytes}", await ReadLineAsync(ssl));
            var file = new byte[TlsMaterial.LargeFileBytes];
            await ssl.ReadExactlyAsync(file);
            Assert.True(file.AsSpan().SequenceEqual(tls.LargeFile), "the file arrived changed");
            Assert.Equal("PONG", await ReadLineAsync(ssl));
        }
    }

    [Fact]
    public async Task Openssl_s_client_and_ncat_run_as_a_user_would_get_the_dialog()
    {
        await using var server = await ServerProcess.StartAsync("", tls.Flags());
        var port = server.TlsPort.ToString();
        var expected = "Welcome!\nWhat's your name?\nHello neo!\nPONG\nGoodbye!\n";

        // openssl s_client -quiet -connect 127.0.0.1:<port>
        var (exit, stdout, stderr) = await Tools.RunAsync("openssl", "neo\nPING\nQUIT\n", "s_client", "-quiet", "-connect", "127.0.0.1:" + port);
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, stdout);

        // ncat --ssl 127.0.0.1 <port>
        (exit, stdout, stderr) = await Tools.RunAsync("ncat", "neo\nPING\nQUIT\n", "--ssl", "127.0.0.1", port);
        Assert.True(exit == 0, stderr);
        Assert.Equal(expected, stdout);
    }

    [Fact]
    public async Task A_plaintext_client_on_the_tls_port_is_closed_without_a_line_and_counted()
    {
        await using var server = await ServerProcess.StartAsync("", tls.Flags());
        await using var observer = await TestClient.NamedAsync(server.TextPort, "observer");
        await using (var plain = await TestClient.ConnectAsync(server.TlsPort))
        {
            await plain.SendAsync("neo\nPING\n");
            // No line can be read: whatever comes back is at most a TLS alert, never a reply.
            var answer = Encoding.Latin1.GetString(await plain.ReadToEndAsync());
            Assert.DoesNotContain("Welcome", answer);
            Assert.DoesNotContain("PONG", answer);
        }
        await observer.StatsUntilAsync(s => s["closed_tls_failed"] == "1", "one failed TLS handshake");
    }

    [Fact]
    public async Task Tls_clients_and_failed_handshakes_are_labelled_in_the_metrics()
    {
        await using var server = await ServerProcess.StartAsync("", tls.Flags("--metrics-port", "0"));
        var (ssl, _) = await ConnectTlsAsync(server.TlsPort);
        await using (ssl)
        {
            await ssl.WriteAsync(Encoding.UTF8.GetBytes("neo\n"));
            await Scrape.UntilAsync(server.MetricsPort,
                s => s.Value("actortcp_active_connections", ("listener", "tls")) == 1, "one TLS client");
        }
        await using (var plain = await TestClient.ConnectAsync(server.TlsPort))
        {
            // Enough bytes for a TLS record header that is not one: the handshake fails at once.
            await plain.SendAsync("neo\nPING\n");
            await plain.ReadToEndAsync();
        }
        var scrape = await Scrape.UntilAsync(server.MetricsPort,
            s => s.Value("actortcp_closed_connections_total", ("reason", "tls_failed")) == 1, "one failed handshake");
        Assert.Equal(2, scrape.Value("actortcp_accepted_connections_total", ("listener", "tls")));
    }

    [Fact]
    public async Task A_client_that_never_handshakes_is_closed_by_the_handshake_timeout_and_counted()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { handshake-timeout = 3s, heartbeat-tick = 100ms }", tls.Flags());
        await using var observer = await TestClient.NamedAsync(server.TextPort, "observer");
        await using var silent = await TestClient.ConnectAsync(server.TlsPort);
        var since = Stopwatch.StartNew();
        Assert.Empty(await silent.ReadToEndAsync());
        Assert.InRange(since.Elapsed, TimeSpan.FromSeconds(2.5), TimeSpan.FromSeconds(10));
        var stats = await observer.StatsUntilAsync(s => s["closed_tls_failed"] == "1", "the silent client counted");
        Assert.Equal("0", stats["closed_handshake_timeout"]);
    }

    [Fact]
    public async Task A_refused_tls_client_gets_the_handshake_then_its_one_line_inside_tls()
    {
        await using var server = await ServerProcess.StartAsync("actor-tcp { max-connections = 1 }", tls.Flags());
        await using var holder = await TestClient.NamedAsync(server.TextPort, "holder");
        var (ssl, _) = await ConnectTlsAsync(server.TlsPort);
        await using (ssl)
        {
            Assert.Equal("ERR server full", await ReadLineAsync(ssl));
            Assert.Equal(0, await ssl.ReadAsync(new byte[16]));
        }
    }

    [Fact]
    public async Task Sigterm_during_a_tls_download_finishes_the_transfer_then_tells_the_client()
    {
        await using var server = await ServerProcess.StartAsync("", tls.Flags());
        var (ssl, socket) = await ConnectTlsAsync(server.TlsPort);
        await using (ssl)
        {
            socket.ReceiveBufferSize = 64 * 1024;
            await ReadLineAsync(ssl);
            await ReadLineAsync(ssl);
            await ssl.WriteAsync(Encoding.UTF8.GetBytes("neo\nGET large.bin\n"));
            Assert.Equal("Hello neo!", await ReadLineAsync(ssl));
            Assert.Equal($"OK {TlsMaterial.LargeFileBytes}", await ReadLineAsync(ssl));
            var first = new byte[64 * 1024];
            await ssl.ReadExactlyAsync(first);
            var exit = server.TerminateAsync(within: TimeSpan.FromSeconds(30));
            var rest = new byte[TlsMaterial.LargeFileBytes - first.Length];
            await ssl.ReadExactlyAsync(rest);
            Assert.True(first.Concat(rest).SequenceEqual(tls.LargeFile), "the file arrived changed");
            Assert.Equal("ERR server shutting down", await ReadLineAsync(ssl));
            Assert.Equal(0, await exit);
        }
    }

    [Theory]
    [InlineData("cert")]
    [InlineData("key")]
    public async Task A_missing_certificate_or_key_stops_the_server_with_a_line_naming_the_file(string missing)
    {
        var gone = Path.Combine(tls.Folder, "no-such.pem");
        var cert = missing == "cert" ? gone : tls.Certificate;
        var key = missing == "key" ? gone : tls.Key;
        var (exit, _, stderr) = await ServerProcess.RunToEndAsync("--port", "0", "--tls-port", "0", "--tls-cert", cert, "--tls-key", key);
        Assert.Equal(2, exit);
        Assert.Contains(gone, stderr);
        Assert.Single(stderr.TrimEnd('\n').Split('\n'));
    }

    [Fact]
    public async Task A_key_that_does_not_match_the_certificate_stops_the_server_with_a_line_naming_it()
    {
        var otherKey = Path.Combine(tls.Folder, "other-key.pem");
        var (made, _, why) = await Tools.RunAsync("openssl", "", "genrsa", "-out", otherKey, "2048");
        Assert.True(made == 0, why);
        var (exit, _, stderr) = await ServerProcess.RunToEndAsync("--port", "0", "--tls-port", "0", "--tls-cert", tls.Certificate, "--tls-key", otherKey);
        Assert.Equal(2, exit);
        Assert.Contains(otherKey, stderr);
    }
}
