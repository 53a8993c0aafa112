using System.Diagnostics;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>
/// GET over real sockets against one server that serves <see cref="FileServingFixture"/>'s folder: exact bytes in
/// both framings, ranges and their errors, pipelining around a transfer, half-close, a reset mid-transfer, and the
/// memory stalled transfers hold.
/// </summary>
[Collection(FileServingCollection.Name)]
public sealed class FileTransferTests(FileServingFixture files)
{
    private int Port => files.Server.TextPort;

    [Fact]
    public async Task GET_sends_every_byte_value_exactly_over_the_text_listener()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET bytes.bin\n");

        Assert.Equal($"OK {files.Bytes.Length}", await client.ReadLineAsync());
        Assert.Equal(files.Bytes, await client.ReadBytesAsync(files.Bytes.Length));
        // Nothing more than n bytes: the next reply starts right after them.
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task GET_sends_every_byte_value_exactly_as_data_frames_over_the_binary_listener()
    {
        await using var client = await FileClients.BinaryNamedAsync(files.Server.BinaryPort);
        await client.SendFrameAsync("GET bytes.bin");

        Assert.Equal($"OK {files.Bytes.Length}", await client.ReadFrameTextAsync());
        var (data, frameSizes) = await FileClients.ReadDataFramesAsync(client, files.Bytes.Length);
        Assert.Equal(files.Bytes, data);
        Assert.All(frameSizes, size => Assert.InRange(size, 1, 65536));
        await client.SendFrameAsync("PING");
        Assert.Equal("PONG", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task GET_with_an_offset_equal_to_the_size_answers_OK_0_and_no_data_in_either_framing()
    {
        var size = files.Bytes.Length;
        await using var text = await TestClient.NamedAsync(Port);
        await text.SendAsync($"GET bytes.bin {size}\nGET bytes.bin {size} 0\nPING\n");
        Assert.Equal(["OK 0", "OK 0", "PONG"], await text.ReadLinesAsync(3));

        await using var binary = await FileClients.BinaryNamedAsync(files.Server.BinaryPort);
        await binary.SendFrameAsync($"GET bytes.bin {size}");
        await binary.SendFrameAsync("PING");
        Assert.Equal("OK 0", await binary.ReadFrameTextAsync());
        Assert.Equal("PONG", await binary.ReadFrameTextAsync());
    }

    [Fact]
    public async Task GET_serves_ranges_at_the_edges_of_the_file_and_of_its_chunks()
    {
        var bytes = files.Bytes;
        var size = bytes.Length;
        (string Args, int Offset, int Length)[] cases =
        [
            ("0", 0, size),
            ($"0 {size}", 0, size),
            ($"{size - 1}", size - 1, 1),
            ($"{size - 1} 1", size - 1, 1),
            ("1", 1, size - 1),
            ($"1 {size - 1}", 1, size - 1),
            ("0 1", 0, 1),
            ("0 0", 0, 0),
            ("65535 2", 65535, 2),
            ("65536", 65536, size - 65536),
            ("131071 65538", 131071, 65538),
            ("00007 003", 7, 3),
        ];
        await using var client = await TestClient.NamedAsync(Port);
        foreach (var (args, offset, length) in cases)
        {
            await client.SendAsync($"GET bytes.bin {args}\n");
            Assert.Equal($"OK {length}", await client.ReadLineAsync());
            Assert.Equal(bytes.AsSpan(offset, length).ToArray(), await client.ReadBytesAsync(length));
        }
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task GET_answers_bad_range_for_a_range_past_the_end_or_a_number_that_is_not_plain_digits()
    {
        var size = files.Bytes.Length;
        string[] bad =
        [
            $"{size + 1}", $"{size + 1} 0", $"0 {size + 1}", $"1 {size}", $"{size} 1", $"{size - 1} 2",
            "-1", "+1", "1x", "x", "0x10", "1.5", "1e3", "\"\"", "0 -5", "0 +5", "0 5x",
            "99999999999999999999", "9223372036854775808", "9223372036854775807", $"0 9223372036854775807",
            "\uFF11", // a fullwidth digit is not an ASCII digit
        ];
        await using var client = await TestClient.NamedAsync(Port);
        foreach (var args in bad)
        {
            await client.SendAsync($"GET bytes.bin {args}\n");
            Assert.Equal((args, "ERR bad range"), (args, await client.ReadLineAsync()));
        }
    }

    [Fact]
    public async Task GET_without_a_path_or_with_four_arguments_answers_its_usage()
    {
        const string usage = "ERR usage: GET <path> [<offset> [<length>]]";
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET\nGET   \t \nget a.txt 0 1 2\nGET a.txt x y z\nGet\n");
        Assert.Equal([usage, usage, usage, usage, usage], await client.ReadLinesAsync(5));
    }

    [Fact]
    public async Task GET_of_a_missing_file_a_folder_a_fifo_or_a_dangling_link_answers_not_found()
    {
        await using var client = await TestClient.NamedAsync(Port);
        string[] paths = ["x", "sub", "sub/", "emptydir", "sub/nope.txt", "sub/deep", "fifo", "dangling", "A.TXT"];
        foreach (var path in paths)
        {
            await client.SendAsync($"GET {path}\n");
            Assert.Equal($"ERR not found: {path}", await client.ReadLineAsync());
        }
        // The path is checked before the range.
        await client.SendAsync("GET x 5 y\n");
        Assert.Equal("ERR not found: x", await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_quoted_path_with_spaces_quotes_or_backslashes_is_served_and_errors_name_it_without_quotes()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET \"my file.txt\" 0 4\n");
        Assert.Equal("OK 4", await client.ReadLineAsync());
        Assert.Equal("hell"u8.ToArray(), await client.ReadBytesAsync(4));

        await client.SendAsync("GET \"quote\\\"and\\\\back.txt\"\n");
        Assert.Equal($"OK {FileServingFixture.QuoteFileText.Length}", await client.ReadLineAsync());
        Assert.Equal(Encoding.UTF8.GetBytes(FileServingFixture.QuoteFileText),
            await client.ReadBytesAsync(FileServingFixture.QuoteFileText.Length));

        await client.SendAsync("GET \"no such file.txt\"\n");
        Assert.Equal("ERR not found: no such file.txt", await client.ReadLineAsync());
    }

    [Fact]
    public async Task Requests_pipelined_behind_a_GET_are_answered_after_its_bytes_in_order()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET bytes.bin\nPING\nGET a.txt\nLIST sub\nECHO done\n");

        Assert.Equal($"OK {files.Bytes.Length}", await client.ReadLineAsync());
        Assert.Equal(files.Bytes, await client.ReadBytesAsync(files.Bytes.Length));
        Assert.Equal("PONG", await client.ReadLineAsync());
        Assert.Equal("OK 6", await client.ReadLineAsync());
        Assert.Equal("alpha\n"u8.ToArray(), await client.ReadBytesAsync(6));
        Assert.Equal(["OK 2", "2 sub/c.txt", "3 sub/deep/d.txt", "done"], await client.ReadLinesAsync(4));
    }

    [Fact]
    public async Task Requests_pipelined_behind_a_GET_over_the_binary_listener_follow_its_data_frames()
    {
        await using var client = await FileClients.BinaryNamedAsync(files.Server.BinaryPort);
        await client.SendAsync([
            .. TestClient.Frame("GET bytes.bin"u8.ToArray()),
            .. TestClient.Frame("PING"u8.ToArray()),
            .. TestClient.Frame("GET a.txt 1 3"u8.ToArray()),
            .. TestClient.Frame("LIST sub"u8.ToArray()),
        ]);

        Assert.Equal($"OK {files.Bytes.Length}", await client.ReadFrameTextAsync());
        Assert.Equal(files.Bytes, (await FileClients.ReadDataFramesAsync(client, files.Bytes.Length)).Data);
        Assert.Equal("PONG", await client.ReadFrameTextAsync());
        Assert.Equal("OK 3", await client.ReadFrameTextAsync());
        Assert.Equal("lph"u8.ToArray(), await client.ReadFrameAsync());
        Assert.Equal("OK 2", await client.ReadFrameTextAsync());
        Assert.Equal("2 sub/c.txt", await client.ReadFrameTextAsync());
        Assert.Equal("3 sub/deep/d.txt", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task A_half_closed_client_receives_every_file_byte_it_asked_for_before_the_server_closes()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET big.bin\nGET a.txt");
        client.HalfClose();

        Assert.Equal($"OK {files.BigLength}", await client.ReadLineAsync());
        var received = await client.ReadBytesAsync(files.BigLength);
        Assert.Equal(files.BigLength, received.Length);
        Assert.Equal(files.BigHash, Convert.ToHexString(SHA256.HashData(received)));
        // The last request, ended by the close instead of a LF, is served too.
        Assert.Equal("OK 6", await client.ReadLineAsync());
        Assert.Equal("alpha\n"u8.ToArray(), await client.ReadBytesAsync(6));
        Assert.True(await client.IsClosedByServerAsync());
    }

    [Fact]
    public async Task A_client_that_resets_mid_transfer_releases_its_download_slot_file_handle_and_connection_at_once()
    {
        await using var watcher = await TestClient.NamedAsync(Port, "watcher");
        var before = await FileClients.WaitForStatsAsync(watcher, s => s["connections"] == 1 && s["downloads"] == 0,
            TimeSpan.FromSeconds(10), "only the watcher connected, no download");

        var downloader = await TestClient.NamedAsync(Port);
        // A small receive buffer: the kernel's own buffers must not be able to take the whole file before the reset
        // (with autotuning they grow to tens of MiB on loopback, and the file goes by sendfile, without a copy).
        downloader.Socket.ReceiveBufferSize = 256 * 1024;
        await downloader.SendAsync("GET huge.bin\n");
        Assert.Equal($"OK {FileServingFixture.HugeLength}", await downloader.ReadLineAsync());
        Assert.Equal(1 << 20, (await downloader.ReadBytesAsync(1 << 20)).Length);
        await FileClients.WaitForStatsAsync(watcher, s => s["connections"] == 2 && s["downloads"] == 1,
            TimeSpan.FromSeconds(10), "the download running");
        await FileClients.WaitUntilAsync(() => FileClients.OpenHandles(files.Server.Pid, files.HugePath) > 0,
            TimeSpan.FromSeconds(10), "the server holds huge.bin open during the transfer");

        var resetAt = Stopwatch.StartNew();
        downloader.Reset();
        var after = await FileClients.WaitForStatsAsync(watcher, s => s["connections"] == 1 && s["downloads"] == 0,
            TimeSpan.FromSeconds(5), "the reset connection and its download slot released");
        await FileClients.WaitUntilAsync(() => FileClients.OpenHandles(files.Server.Pid, files.HugePath) == 0,
            TimeSpan.FromSeconds(5), "huge.bin closed after the reset");
        Assert.True(resetAt.Elapsed < TimeSpan.FromSeconds(5), $"released after {resetAt.Elapsed}");
        Assert.Equal(before["closed_reset"] + 1, after["closed_reset"]);
        Assert.True(after["bytes_out"] - before["bytes_out"] < FileServingFixture.HugeLength,
            "the server stopped sending when the client went away");
    }
}

/// <summary>One server and one served folder for the GET and LIST tests that can share them (they do not change it).</summary>
[CollectionDefinition(Name)]
public sealed class FileServingCollection : ICollectionFixture<FileServingFixture>
{
    public const string Name = "File serving";
}

/// <summary>
/// The served folder: a file holding every byte value, small text files, names that sort differently in UTF-16
/// and UTF-8, quoted names, a subfolder tree, hidden entries, links inside and outside, a loop, a FIFO, names
/// that cannot be served; plus a folder outside the root with a secret in it.
/// </summary>
public sealed class FileServingFixture : IAsyncLifetime
{
    public const string QuoteFileText = "quoted\\ok\n";
    public const long HugeLength = 64L << 20;

    private string _scratch = "";

    public ServerProcess Server { get; private set; } = null!;

    public string Root { get; private set; } = "";

    public string OutsideSecret { get; private set; } = "";

    public string HugePath => Path.Combine(Root, "huge.bin");

    /// <summary>0..255, 255..0, then pseudo-random bytes: three chunks and a partial one.</summary>
    public byte[] Bytes { get; } = EveryByteValue(3 * 65536 + 1234);

    public int BigLength => 8 << 20;

    public string BigHash { get; private set; } = "";

    public async Task InitializeAsync()
    {
        _scratch = Directory.CreateTempSubdirectory("actortcp-files-").FullName;
        Root = Directory.CreateDirectory(Path.Combine(_scratch, "root")).FullName;
        var outside = Directory.CreateDirectory(Path.Combine(_scratch, "outside")).FullName;
        OutsideSecret = Path.Combine(outside, "secret.txt");
        await File.WriteAllTextAsync(OutsideSecret, "top secret\n");

        await File.WriteAllBytesAsync(Path.Combine(Root, "bytes.bin"), Bytes);
        var big = new byte[BigLength];
        new Random(8).NextBytes(big);
        BigHash = Convert.ToHexString(SHA256.HashData(big));
        await File.WriteAllBytesAsync(Path.Combine(Root, "big.bin"), big);
        using (var huge = File.Create(HugePath)) huge.SetLength(HugeLength);

        foreach (var (path, text) in VisibleTextFiles) await WriteText(path, text);
        Directory.CreateDirectory(Path.Combine(Root, "emptydir"));
        await WriteText(".hidden", "hidden\n");
        await WriteText(".hiddendir/x.txt", "x\n");
        await WriteText("sub/.secret", "s\n");
        await WriteText("ctl\u0007.txt", "control\n");
        FileNative.CreateFileWithRawName(RawNamePrefix, [0xFF, 0xFE], ".txt");
        FileNative.MakeFifo(Path.Combine(Root, "fifo"));
        File.CreateSymbolicLink(Path.Combine(Root, "link-in"), "a.txt");
        File.CreateSymbolicLink(Path.Combine(Root, "link-out"), OutsideSecret);
        File.CreateSymbolicLink(Path.Combine(Root, "link-out-relative"), "../outside/secret.txt");
        Directory.CreateSymbolicLink(Path.Combine(Root, "linkdir-out"), outside);
        Directory.CreateSymbolicLink(Path.Combine(Root, "sub", "loop"), "..");
        File.CreateSymbolicLink(Path.Combine(Root, "dangling"), "nowhere.txt");
        // Visible names that lead to hidden ones: GET refuses them, so LIST must not show them either.
        File.CreateSymbolicLink(Path.Combine(Root, "vis"), ".hidden");
        Directory.CreateSymbolicLink(Path.Combine(Root, "visdir"), ".hiddendir");

        Server = await ServerProcess.StartAsync("", "--files", Root);
    }

    /// <summary>The visible regular files that are not generated, with their text.</summary>
    public static readonly (string Path, string Text)[] VisibleTextFiles =
    [
        ("a.txt", "alpha\n"),
        ("B.txt", "bravo!\n"),
        ("my file.txt", "hello world\n"),
        ("quote\"and\\back.txt", QuoteFileText),
        ("sub/c.txt", "c\n"),
        ("sub/deep/d.txt", "dd\n"),
        ("\u00E9.txt", "e acute\n"),
        ("\uFF21.txt", "fullwidth A\n"),
        ("\U0001F600.txt", "grinning\n"),
    ];

    private async Task WriteText(string relative, string text)
    {
        var path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await File.WriteAllTextAsync(path, text);
    }

    public static byte[] EveryByteValue(int length)
    {
        var bytes = new byte[length];
        new Random(42).NextBytes(bytes);
        for (var i = 0; i < 256; i++)
        {
            bytes[i] = (byte)i;
            bytes[256 + i] = (byte)(255 - i);
        }
        return bytes;
    }

    private string RawNamePrefix => Path.Combine(Root, "bad");

    public async Task DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        // .NET cannot name that file to delete it, so the walk below would stop at it.
        FileNative.DeleteFileWithRawName(RawNamePrefix, [0xFF, 0xFE], ".txt");
        try { Directory.Delete(_scratch, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>What the file tests need beyond <see cref="TestClient"/>: binary dialog, data frames, STATS, draining.</summary>
internal static class FileClients
{
    public static async Task<TestClient> BinaryNamedAsync(int port, string name = "neo")
    {
        var client = await TestClient.ConnectAsync(port);
        Assert.Equal("Welcome!", await client.ReadFrameTextAsync());
        Assert.Equal("What's your name?", await client.ReadFrameTextAsync());
        await client.SendFrameAsync(name);
        Assert.Equal($"Hello {name}!", await client.ReadFrameTextAsync());
        return client;
    }

    /// <summary>Reads data frames until their payloads add up to <paramref name="length"/> bytes.</summary>
    public static async Task<(byte[] Data, List<int> FrameSizes)> ReadDataFramesAsync(TestClient client, long length)
    {
        var data = new MemoryStream();
        var sizes = new List<int>();
        while (data.Length < length)
        {
            var payload = await client.ReadFrameAsync() ?? throw new IOException($"closed after {data.Length} of {length} bytes");
            sizes.Add(payload.Length);
            data.Write(payload);
        }
        return (data.ToArray(), sizes);
    }

    /// <summary>A line, or a description of the end: "(reset)" or "(closed)", so a failed assertion says which.</summary>
    public static async Task<string> ReadLineOrResetAsync(TestClient client)
    {
        try
        {
            return await client.ReadLineAsync() ?? "(closed)";
        }
        catch (SocketException e)
        {
            return $"(reset: {e.SocketErrorCode})";
        }
    }

    public static async Task<Dictionary<string, long>> StatsAsync(TestClient client)
    {
        await client.SendAsync("STATS\n");
        var line = await client.ReadLineAsync() ?? throw new IOException("closed instead of answering STATS");
        Assert.StartsWith("OK ", line);
        var stats = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var pair in line[3..].Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            if (eq > 0 && long.TryParse(pair[(eq + 1)..], out var value)) stats[pair[..eq]] = value;
        }
        return stats;
    }

    /// <summary>Polls STATS until <paramref name="condition"/> holds; fails with the last answer past the deadline.</summary>
    public static async Task<Dictionary<string, long>> WaitForStatsAsync(
        TestClient client, Func<Dictionary<string, long>, bool> condition, TimeSpan within, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var stats = await StatsAsync(client);
            if (condition(stats)) return stats;
            if (clock.Elapsed > within)
                Assert.Fail($"not within {within}: {what}; last STATS: " +
                    string.Join(' ', stats.Select(kv => $"{kv.Key}={kv.Value}")));
            await Task.Delay(20);
        }
    }

    public static async Task WaitUntilAsync(Func<bool> condition, TimeSpan within, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!condition())
        {
            if (clock.Elapsed > within) Assert.Fail($"not within {within}: {what}");
            await Task.Delay(20);
        }
    }

    /// <summary>
    /// Reads until the server closes (end of stream or a reset), in small pieces so that a reset loses little.
    /// Returns the bytes counted and whether every one of them was zero.
    /// </summary>
    public static async Task<(long Count, bool AllZero)> DrainAsync(TestClient client, long atMost)
    {
        long count = 0;
        var allZero = true;
        try
        {
            while (count < atMost)
            {
                var piece = await client.ReadBytesAsync(Math.Min(64 * 1024, atMost - count));
                count += piece.Length;
                allZero &= !piece.AsSpan().ContainsAnyExcept((byte)0);
                if (piece.Length == 0) break;
            }
        }
        catch (SocketException)
        {
            // A reset: the connection is gone, which is what the caller waits for.
        }
        return (count, allZero);
    }

    /// <summary>How many of <paramref name="pid"/>'s descriptors point at <paramref name="path"/>.</summary>
    public static int OpenHandles(int pid, string path)
    {
        var count = 0;
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget == path) count++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The descriptor closed while we looked.
            }
        }
        return count;
    }
}

internal static class FileNative
{
    public static void MakeFifo(string path)
    {
        if (mkfifo(path, Convert.ToUInt32("644", 8)) != 0)
            throw new IOException($"mkfifo {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    /// <summary>Creates a file whose name holds bytes that are not UTF-8, which .NET strings cannot express.</summary>
    public static void CreateFileWithRawName(string prefix, byte[] raw, string suffix)
    {
        byte[] name = [.. Encoding.UTF8.GetBytes(prefix), .. raw, .. Encoding.UTF8.GetBytes(suffix), 0];
        const int writeOnlyCreate = 0x41; // O_WRONLY | O_CREAT
        var fd = open(name, writeOnlyCreate, Convert.ToInt32("644", 8));
        if (fd < 0) throw new IOException($"open failed: errno {Marshal.GetLastPInvokeError()}");
        _ = write(fd, "raw\n"u8.ToArray(), 4);
        _ = close(fd);
    }

    public static void DeleteFileWithRawName(string prefix, byte[] raw, string suffix) =>
        _ = unlink([.. Encoding.UTF8.GetBytes(prefix), .. raw, .. Encoding.UTF8.GetBytes(suffix), 0]);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlink(byte[] path);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkfifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(byte[] path, int flags, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
}

/// <summary>max-downloads = 1, max-list-entries = 3 and max-frame-bytes = 1024, on a server of their own.</summary>
public sealed class FileLimitsTests(FileLimitsTests.Fixture files) : IClassFixture<FileLimitsTests.Fixture>
{
    private const string Busy = "ERR busy: too many downloads, try again";

    private int Port => files.Server.TextPort;

    [Fact]
    public async Task A_GET_past_max_downloads_is_answered_busy_until_a_running_transfer_ends()
    {
        await using var watcher = await TestClient.NamedAsync(Port, "watcher");
        await FileClients.WaitForStatsAsync(watcher, s => s["downloads"] == 0, TimeSpan.FromSeconds(10), "no download");

        // The first client asks for a large file and does not read it, so its transfer holds the only slot.
        var holder = await TestClient.NamedAsync(Port, "holder");
        await holder.SendAsync("GET big.bin\n");
        Assert.Equal($"OK {Fixture.BigLength}", await holder.ReadLineAsync());

        await using var text = await TestClient.NamedAsync(Port);
        await text.SendAsync("GET x1.txt\nGET x1.txt 1 2\nPING\n");
        Assert.Equal([Busy, Busy, "PONG"], await text.ReadLinesAsync(3));
        await using var binary = await FileClients.BinaryNamedAsync(files.Server.BinaryPort);
        await binary.SendFrameAsync("GET x1.txt");
        Assert.Equal(Busy, await binary.ReadFrameTextAsync());
        // The path is checked first.
        await text.SendAsync("GET nope\n");
        Assert.Equal("ERR not found: nope", await text.ReadLineAsync());

        holder.Reset();
        var clock = Stopwatch.StartNew();
        while (true)
        {
            await text.SendAsync("GET x1.txt\n");
            var reply = await text.ReadLineAsync();
            if (reply == "OK 3") break;
            Assert.Equal(Busy, reply);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "the slot was not released within 5 s of the reset");
            await Task.Delay(20);
        }
        Assert.Equal("x1\n"u8.ToArray(), await text.ReadBytesAsync(3));
    }

    [Fact]
    public async Task With_max_downloads_1_one_clients_pipelined_GETs_each_run_in_turn()
    {
        await using var watcher = await TestClient.NamedAsync(Port, "watcher");
        await FileClients.WaitForStatsAsync(watcher, s => s["downloads"] == 0, TimeSpan.FromSeconds(10), "no download");
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET x1.txt\nGET x2.txt\nGET x3.txt 1\n");
        Assert.Equal("OK 3", await client.ReadLineAsync());
        Assert.Equal("x1\n"u8.ToArray(), await client.ReadBytesAsync(3));
        Assert.Equal("OK 3", await client.ReadLineAsync());
        Assert.Equal("x2\n"u8.ToArray(), await client.ReadBytesAsync(3));
        Assert.Equal("OK 2", await client.ReadLineAsync());
        Assert.Equal("3\n"u8.ToArray(), await client.ReadBytesAsync(2));
    }

    [Fact]
    public async Task LIST_of_more_than_max_list_entries_files_answers_too_many_files_and_exactly_max_is_listed()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("LIST\nLIST three\nPING\n");
        Assert.Equal(["ERR too many files (max 3)", "OK 3", "1 three/f1", "1 three/f2", "1 three/f3", "PONG"],
            await client.ReadLinesAsync(6));
    }

    [Fact]
    public async Task LIST_lists_a_file_reached_through_a_folder_link_inside_only_once()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("LIST links\n");
        Assert.Equal("OK 1", await client.ReadLineAsync());
        Assert.Matches("^5 links/(real|alias)/f.txt$", await client.ReadLineAsync());
        await client.SendAsync("GET links/alias/f.txt\n");
        Assert.Equal("OK 5", await client.ReadLineAsync());
        Assert.Equal("file\n"u8.ToArray(), await client.ReadBytesAsync(5));
    }

    [Fact]
    public async Task Data_frames_carry_up_to_64_KiB_whatever_max_frame_bytes_is()
    {
        await using var client = await FileClients.BinaryNamedAsync(files.Server.BinaryPort);
        await client.SendFrameAsync("GET frames.bin");
        Assert.Equal($"OK {files.Frames.Length}", await client.ReadFrameTextAsync());
        var (data, sizes) = await FileClients.ReadDataFramesAsync(client, files.Frames.Length);
        Assert.Equal(files.Frames, data);
        Assert.All(sizes, size => Assert.InRange(size, 1, 65536));
        Assert.Contains(sizes, size => size > 1024);
        await client.SendFrameAsync("PING");
        Assert.Equal("PONG", await client.ReadFrameTextAsync());
    }

    [Fact]
    public async Task GET_serves_ranges_past_4_GiB_in_a_large_file()
    {
        const long size = Fixture.HugeLength;
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync($"GET huge.bin {size - 10}\nGET huge.bin 4294967296 3\nGET huge.bin 2147483647 2\n" +
            $"GET huge.bin {size}\nGET huge.bin {size - 1} 2\nGET huge.bin 0 {size + 1}\n");
        Assert.Equal("OK 10", await client.ReadLineAsync());
        Assert.Equal(new byte[10], await client.ReadBytesAsync(10));
        Assert.Equal("OK 3", await client.ReadLineAsync());
        Assert.Equal(new byte[3], await client.ReadBytesAsync(3));
        Assert.Equal("OK 2", await client.ReadLineAsync());
        Assert.Equal(new byte[2], await client.ReadBytesAsync(2));
        Assert.Equal(["OK 0", "ERR bad range", "ERR bad range"], await client.ReadLinesAsync(3));
    }

    public sealed class Fixture : IAsyncLifetime
    {
        public const long BigLength = 32L << 20;
        public const long HugeLength = (5L << 30) + 7;

        public byte[] Frames { get; } = FileServingFixture.EveryByteValue(100_000);

        private string _root = "";

        public ServerProcess Server { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            _root = Directory.CreateTempSubdirectory("actortcp-limits-").FullName;
            using (var big = File.Create(Path.Combine(_root, "big.bin"))) big.SetLength(BigLength);
            using (var huge = File.Create(Path.Combine(_root, "huge.bin"))) huge.SetLength(HugeLength);
            await File.WriteAllBytesAsync(Path.Combine(_root, "frames.bin"), Frames);
            foreach (var name in new[] { "x1", "x2", "x3" })
                await File.WriteAllTextAsync(Path.Combine(_root, name + ".txt"), name + "\n");
            Directory.CreateDirectory(Path.Combine(_root, "three"));
            foreach (var name in new[] { "f1", "f2", "f3" })
                await File.WriteAllTextAsync(Path.Combine(_root, "three", name), "\n");
            Directory.CreateDirectory(Path.Combine(_root, "links", "real"));
            await File.WriteAllTextAsync(Path.Combine(_root, "links", "real", "f.txt"), "file\n");
            Directory.CreateSymbolicLink(Path.Combine(_root, "links", "alias"), "real");
            Server = await ServerProcess.StartAsync("actor-tcp { max-downloads = 1, max-list-entries = 3, max-frame-bytes = 1024 }", "--files", _root);
        }

        public async Task DisposeAsync()
        {
            if (Server is not null) await Server.DisposeAsync();
            try { Directory.Delete(_root, recursive: true); }
            catch (IOException) { }
        }
    }
}

/// <summary>Transfers against idle-timeout = 2 s (heartbeat-tick 100 ms): slow, stalled, and a file that shrinks.</summary>
public sealed class FileTimingTests(FileTimingTests.Fixture files) : IClassFixture<FileTimingTests.Fixture>
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromSeconds(2);

    private int Port => files.Server.TextPort;

    [Fact]
    public async Task A_slow_reader_that_takes_longer_than_idle_timeout_still_receives_every_byte()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET slow.bin\n");
        Assert.Equal($"OK {Fixture.SlowLength}", await client.ReadLineAsync());

        // Small reads paced to 2.5 times idle-timeout for the whole file, and no gap anywhere near idle-timeout.
        var pace = IdleTimeout * 2.5;
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var clock = Stopwatch.StartNew();
        long received = 0;
        while (received < Fixture.SlowLength)
        {
            var piece = await client.ReadBytesAsync(Math.Min(16 * 1024, Fixture.SlowLength - received));
            if (piece.Length == 0) break;
            hash.AppendData(piece);
            received += piece.Length;
            var due = pace * ((double)received / Fixture.SlowLength);
            if (due > clock.Elapsed) await Task.Delay(due - clock.Elapsed);
        }

        Assert.Equal(Fixture.SlowLength, received);
        Assert.Equal(files.SlowHash, Convert.ToHexString(hash.GetHashAndReset()));
        Assert.True(clock.Elapsed > 2 * IdleTimeout, $"the transfer took only {clock.Elapsed}");
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task A_client_that_stops_reading_mid_transfer_is_cut_after_idle_timeout_without_a_last_line()
    {
        await using var watcher = await TestClient.NamedAsync(Port, "watcher");
        var before = await FileClients.WaitForStatsAsync(watcher, s => s["connections"] == 1 && s["downloads"] == 0,
            TimeSpan.FromSeconds(10), "only the watcher connected, no download");

        await using var reader = await TestClient.NamedAsync(Port);
        // The server received nothing after the GET, so it may cut the client no sooner than idle-timeout after it.
        var sent = Stopwatch.StartNew();
        await reader.SendAsync("GET zeros.bin\n");
        Assert.Equal($"OK {Fixture.ZerosLength}", await reader.ReadLineAsync());
        Assert.Equal(64 * 1024, (await reader.ReadBytesAsync(64 * 1024)).Length);

        var after = await FileClients.WaitForStatsAsync(watcher, s => s["connections"] == 1,
            TimeSpan.FromSeconds(15), "the stalled reader cut");
        var cutAfter = sent.Elapsed;

        Assert.Equal(before["closed_idle_timeout"] + 1, after["closed_idle_timeout"]);
        Assert.Equal(0, after["downloads"]);
        Assert.True(cutAfter >= IdleTimeout, $"cut {cutAfter} after the GET, sooner than idle-timeout");
        var (count, allZero) = await FileClients.DrainAsync(reader, Fixture.ZerosLength);
        Assert.True(64 * 1024 + count < Fixture.ZerosLength, $"the client got {64 * 1024 + count} of {Fixture.ZerosLength} bytes");
        // zeros.bin holds only zeros: an `ERR idle timeout` line would show up inside them.
        Assert.True(allZero, "a non-zero byte (a reply line?) came after the file's bytes");
    }

    [Fact]
    public async Task A_file_truncated_during_a_transfer_closes_the_connection_before_the_promised_bytes_and_is_logged()
    {
        var path = Path.Combine(files.Root, "shrinking.bin");
        const long length = 64L << 20;
        using (var file = File.Create(path)) file.SetLength(length);

        await using var reader = await TestClient.NamedAsync(Port);
        await reader.SendAsync("GET shrinking.bin\n");
        Assert.Equal($"OK {length}", await reader.ReadLineAsync());
        Assert.Equal(64 * 1024, (await reader.ReadBytesAsync(64 * 1024)).Length);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write)) file.SetLength(1 << 20);

        var (count, _) = await FileClients.DrainAsync(reader, length);
        Assert.True(64 * 1024 + count < length, $"the client got {64 * 1024 + count} of {length} bytes");
        Assert.True(await reader.IsClosedByServerAsync());
        await FileClients.WaitUntilAsync(() => files.Server.Log.Contains("GET shrinking.bin"), TimeSpan.FromSeconds(5),
            "the server logs the GET that ended short; log:\n" + files.Server.Log);
        await using var watcher = await TestClient.NamedAsync(Port, "watcher");
        var stats = await FileClients.WaitForStatsAsync(watcher, s => s["downloads"] == 0, TimeSpan.FromSeconds(5), "no download");
        Assert.Equal(1, stats["closed_transfer_failed"]);
    }

    public sealed class Fixture : IAsyncLifetime
    {
        public const long SlowLength = 32L << 20;
        public const long ZerosLength = 64L << 20;

        public ServerProcess Server { get; private set; } = null!;

        public string Root { get; private set; } = "";

        public string SlowHash { get; private set; } = "";

        public async Task InitializeAsync()
        {
            Root = Directory.CreateTempSubdirectory("actortcp-timing-").FullName;
            var slow = new byte[SlowLength];
            new Random(32).NextBytes(slow);
            SlowHash = Convert.ToHexString(SHA256.HashData(slow));
            await File.WriteAllBytesAsync(Path.Combine(Root, "slow.bin"), slow);
            using (var zeros = File.Create(Path.Combine(Root, "zeros.bin"))) zeros.SetLength(ZerosLength);
            Server = await ServerProcess.StartAsync("actor-tcp { idle-timeout = 2s, heartbeat-tick = 100ms }", "--files", Root);
        }

        public async Task DisposeAsync()
        {
            if (Server is not null) await Server.DisposeAsync();
            try { Directory.Delete(Root, recursive: true); }
            catch (IOException) { }
        }
    }
}

/// <summary>SIGTERM while a client downloads: the transfer drains, then the line; or drain-timeout cuts it.</summary>
public sealed class FileShutdownTests
{
    private const long Length = 64L << 20;

    [Fact]
    public async Task On_shutdown_a_downloading_client_gets_its_whole_file_then_the_shutdown_line_and_nothing_queued_behind()
    {
        var root = Directory.CreateTempSubdirectory("actortcp-shutdown-").FullName;
        try
        {
            using (var file = File.Create(Path.Combine(root, "zeros.bin"))) file.SetLength(Length);
            await using var server = await ServerProcess.StartAsync("", "--files", root);
            await using var downloader = await TestClient.NamedAsync(server.TextPort);
            await using var idle = await TestClient.NamedAsync(server.TextPort, "idle");
            await downloader.SendAsync("GET zeros.bin\nPING\n");
            Assert.Equal($"OK {Length}", await downloader.ReadLineAsync());
            Assert.Equal(64 * 1024, (await downloader.ReadBytesAsync(64 * 1024)).Length);

            var exited = server.TerminateAsync(TimeSpan.FromSeconds(30));
            // A client with nothing in flight hears at once, which tells us the shutdown has begun.
            Assert.Equal("ERR server shutting down", await FileClients.ReadLineOrResetAsync(idle));
            Assert.True(await idle.IsClosedByServerAsync());

            var (count, allZero) = await FileClients.DrainAsync(downloader, Length - 64 * 1024);
            Assert.Equal(Length - 64 * 1024, count);
            Assert.True(allZero);
            Assert.Equal("ERR server shutting down", await FileClients.ReadLineOrResetAsync(downloader));
            Assert.True(await downloader.IsClosedByServerAsync(), "the PING queued behind the transfer must not be answered");
            // Like nc at the end of its output, the clients close their side too.
            await idle.DisposeAsync();
            await downloader.DisposeAsync();
            Assert.Equal(0, await exited);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public async Task On_shutdown_a_transfer_still_running_at_drain_timeout_is_cut_without_the_line()
    {
        var root = Directory.CreateTempSubdirectory("actortcp-drain-").FullName;
        try
        {
            using (var file = File.Create(Path.Combine(root, "zeros.bin"))) file.SetLength(Length);
            await using var server = await ServerProcess.StartAsync("actor-tcp { drain-timeout = 1s }", "--files", root);
            await using var downloader = await TestClient.NamedAsync(server.TextPort);
            await using var idle = await TestClient.NamedAsync(server.TextPort, "idle");
            await downloader.SendAsync("GET zeros.bin\n");
            Assert.Equal($"OK {Length}", await downloader.ReadLineAsync());

            var clock = Stopwatch.StartNew();
            var exited = server.TerminateAsync(TimeSpan.FromSeconds(20));
            Assert.Equal("ERR server shutting down", await FileClients.ReadLineOrResetAsync(idle));
            // The downloader reads nothing until the server has exited.
            Assert.Equal(0, await exited);
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(0.9), $"exited {clock.Elapsed} after SIGTERM");

            var (count, allZero) = await FileClients.DrainAsync(downloader, Length);
            Assert.True(count < Length, $"the client got {count} of {Length} bytes");
            Assert.True(allZero, "a non-zero byte (a reply line?) came after the file's bytes");
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
