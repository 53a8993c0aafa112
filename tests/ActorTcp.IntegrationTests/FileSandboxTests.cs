namespace ActorTcp.IntegrationTests;

/// <summary>
/// The sandbox over files-root and LIST, over real sockets: what may be served and listed, and the errors for the
/// rest. Shares <see cref="FileServingFixture"/>'s server and folder with <see cref="FileTransferTests"/>.
/// </summary>
[Collection(FileServingCollection.Name)]
public sealed class FileSandboxTests(FileServingFixture files)
{
    private int Port => files.Server.TextPort;

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/")]
    [InlineData("..")]
    [InlineData("../x")]
    [InlineData("../outside/secret.txt")]
    [InlineData("a/../../x")]
    [InlineData("sub/../a.txt")]
    [InlineData("sub/..")]
    public async Task GET_refuses_an_absolute_path_or_any_dot_dot_segment_as_forbidden(string path)
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync($"GET {path}\nGET {path} 0 1\n");
        Assert.Equal([$"ERR forbidden: {path}", $"ERR forbidden: {path}"], await client.ReadLinesAsync(2));
    }

    [Fact]
    public async Task GET_refuses_the_absolute_path_of_the_served_folder_itself()
    {
        var path = Path.Combine(files.Root, "a.txt");
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync($"GET {path}\n");
        Assert.Equal($"ERR forbidden: {path}", await client.ReadLineAsync());
    }

    [Theory]
    [InlineData(".hidden")]
    [InlineData(".hiddendir/x.txt")]
    [InlineData("sub/.secret")]
    [InlineData("./.hidden")]
    [InlineData("vis")]
    [InlineData("visdir/x.txt")]
    public async Task GET_refuses_a_hidden_file_or_a_file_in_a_hidden_folder_as_forbidden(string path)
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync($"GET {path}\n");
        Assert.Equal($"ERR forbidden: {path}", await client.ReadLineAsync());
    }

    [Theory]
    [InlineData("link-out")]
    [InlineData("link-out-relative")]
    [InlineData("linkdir-out/secret.txt")]
    public async Task GET_refuses_a_link_that_leads_outside_the_served_folder_as_forbidden(string path)
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync($"GET {path}\nGET {path} 0 3\n");
        Assert.Equal([$"ERR forbidden: {path}", $"ERR forbidden: {path}"], await client.ReadLinesAsync(2));
    }

    [Fact]
    public async Task Links_that_stay_inside_the_served_folder_are_served()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET link-in\nGET sub/loop/a.txt 1 3\n");
        Assert.Equal("OK 6", await client.ReadLineAsync());
        Assert.Equal("alpha\n"u8.ToArray(), await client.ReadBytesAsync(6));
        Assert.Equal("OK 3", await client.ReadLineAsync());
        Assert.Equal("lph"u8.ToArray(), await client.ReadBytesAsync(3));
    }

    [Fact]
    public async Task Names_with_a_control_character_are_not_served()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("GET \"ctl\u0007.txt\"\n");
        Assert.Equal("ERR not found: ctl\u0007.txt", await client.ReadLineAsync());
    }

    [Fact]
    public async Task LIST_answers_every_visible_regular_file_recursively_with_its_size_sorted_by_UTF8_bytes()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("LIST\n");

        // Byte order, not culture: 'B' before 'a'; U+00E9 < U+FF21 < U+1F600 although UTF-16 puts the emoji first.
        // a.txt stands for link-in (the same real file); the loop sub/loop, hidden names, the FIFO, the dangling
        // link, names that are not UTF-8 or hold a control character, links leading outside, and links to hidden
        // names (vis, visdir/x.txt, which GET refuses) are left out.
        string[] expected =
        [
            "7 B.txt",
            "6 a.txt",
            $"{files.BigLength} big.bin",
            $"{files.Bytes.Length} bytes.bin",
            $"{FileServingFixture.HugeLength} huge.bin",
            "12 \"my file.txt\"",
            $"{FileServingFixture.QuoteFileText.Length} \"quote\\\"and\\\\back.txt\"",
            "2 sub/c.txt",
            "3 sub/deep/d.txt",
            "8 \u00E9.txt",
            "12 \uFF21.txt",
            "9 \U0001F600.txt",
        ];
        Assert.Equal($"OK {expected.Length}", await client.ReadLineAsync());
        Assert.Equal(expected, await client.ReadLinesAsync(expected.Length));
        await client.SendAsync("PING\n");
        Assert.Equal("PONG", await client.ReadLineAsync());
    }

    [Fact]
    public async Task LIST_leaves_out_links_leading_outside_hidden_names_loops_fifos_and_dangling_links()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("LIST\n");
        var count = int.Parse((await client.ReadLineAsync())!["OK ".Length..]);
        var paths = (await client.ReadLinesAsync(count)).Select(line => line[(line.IndexOf(' ') + 1)..]).ToList();
        string[] absent = ["link-out", "link-out-relative", "linkdir-out/secret.txt", ".hidden", ".hiddendir/x.txt",
            "sub/.secret", "fifo", "dangling", "link-in", "sub/loop/a.txt", "ctl\u0007.txt"];
        Assert.Empty(paths.Intersect(absent));
        Assert.DoesNotContain(paths, p => p.StartsWith("sub/loop/", StringComparison.Ordinal) || p.Contains("secret"));
    }

    [Fact]
    public async Task Every_file_that_LIST_shows_can_be_fetched_with_GET()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("LIST\n");
        var count = int.Parse((await client.ReadLineAsync())!["OK ".Length..]);
        var lines = await client.ReadLinesAsync(count);
        var refused = new List<string>();
        foreach (var line in lines)
        {
            var path = line[(line.IndexOf(' ') + 1)..];
            await client.SendAsync($"GET {path} 0 0\n");
            var reply = await client.ReadLineAsync();
            if (reply != "OK 0") refused.Add($"{line} -> {reply}");
        }
        Assert.Empty(refused);
    }

    [Fact]
    public async Task LIST_lines_quote_paths_so_that_they_can_be_pasted_back_into_a_GET()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("LIST\n");
        var count = int.Parse((await client.ReadLineAsync())!["OK ".Length..]);
        var lines = await client.ReadLinesAsync(count);
        foreach (var line in lines.Where(l => l.Contains('"')))
        {
            var space = line.IndexOf(' ');
            var size = long.Parse(line[..space]);
            await client.SendAsync($"GET {line[(space + 1)..]} 0 {size}\n");
            Assert.Equal((line, $"OK {size}"), (line, await client.ReadLineAsync()));
            Assert.Equal(size, (await client.ReadBytesAsync(size)).Length);
        }
    }

    [Fact]
    public async Task LIST_of_a_subfolder_lists_its_files_with_paths_relative_to_the_served_folder()
    {
        await using var client = await TestClient.NamedAsync(Port);
        await client.SendAsync("LIST sub\nLIST sub/\nLIST \"sub\"\nLIST sub/deep\nLIST emptydir\n");
        string[] sub = ["OK 2", "2 sub/c.txt", "3 sub/deep/d.txt"];
        Assert.Equal([.. sub, .. sub, .. sub, "OK 1", "3 sub/deep/d.txt", "OK 0"], await client.ReadLinesAsync(12));
    }

    [Fact]
    public async Task LIST_refuses_a_folder_outside_or_hidden_as_forbidden_and_a_missing_one_or_a_file_as_not_found()
    {
        await using var client = await TestClient.NamedAsync(Port);
        string[] requests =
        [
            "LIST ..", "LIST ../outside", "LIST /etc", "LIST sub/../..", "LIST .hiddendir", "LIST linkdir-out", "LIST visdir",
            "LIST nope", "LIST a.txt", "LIST sub/nope",
        ];
        await client.SendAsync(string.Join('\n', requests) + "\n");
        Assert.Equal(
        [
            "ERR forbidden: ..", "ERR forbidden: ../outside", "ERR forbidden: /etc", "ERR forbidden: sub/../..",
            "ERR forbidden: .hiddendir", "ERR forbidden: linkdir-out", "ERR forbidden: visdir",
            "ERR not found: nope", "ERR not found: a.txt", "ERR not found: sub/nope",
        ], await client.ReadLinesAsync(requests.Length));
    }

    [Fact]
    public async Task LIST_over_the_binary_listener_answers_one_frame_per_line()
    {
        await using var client = await FileClients.BinaryNamedAsync(files.Server.BinaryPort);
        await client.SendFrameAsync("LIST \"my file.txt\"");
        await client.SendFrameAsync("LIST sub");
        Assert.Equal("ERR not found: my file.txt", await client.ReadFrameTextAsync());
        Assert.Equal("OK 2", await client.ReadFrameTextAsync());
        Assert.Equal("2 sub/c.txt", await client.ReadFrameTextAsync());
        Assert.Equal("3 sub/deep/d.txt", await client.ReadFrameTextAsync());
    }
}
