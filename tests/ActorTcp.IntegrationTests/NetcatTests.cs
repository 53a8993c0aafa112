using System.Diagnostics;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>The real `nc`, as a user at a shell would drive the server.</summary>
public sealed class NetcatTests(DefaultServer server) : IClassFixture<DefaultServer>
{
    private const string Netcat = "/usr/bin/nc";

    [Fact]
    public async Task A_scripted_nc_session_prints_exactly_the_dialog_a_ping_and_goodbye()
    {
        // printf 'neo\nPING\nquit\n' | nc -N 127.0.0.1 <port>
        var (exit, stdout) = await RunNetcatAsync("neo\nPING\nquit\n", "-N", "127.0.0.1", server.TextPort.ToString());
        Assert.Equal("Welcome!\nWhat's your name?\nHello neo!\nPONG\nGoodbye!\n", stdout);
        Assert.Equal(0, exit);
    }

    [Fact]
    public async Task Nc_with_CRLF_line_ends_gets_replies_without_a_stray_CR_and_all_replies_after_its_half_close()
    {
        // printf 'neo\nECHO hi there\nPING\n' | nc -C -N 127.0.0.1 <port>: no quit, the server closes after the replies.
        var (exit, stdout) = await RunNetcatAsync("neo\nECHO hi there\nPING\n", "-C", "-N", "127.0.0.1", server.TextPort.ToString());
        Assert.Equal("Welcome!\nWhat's your name?\nHello neo!\nhi there\nPONG\n", stdout);
        Assert.Equal(0, exit);
    }

    private static async Task<(int ExitCode, string Stdout)> RunNetcatAsync(string input, params string[] args)
    {
        // CI installs netcat-openbsd; a missing nc is a failure, not a reason to skip.
        Assert.True(File.Exists(Netcat), $"{Netcat} is missing: install netcat-openbsd");
        var info = new ProcessStartInfo(Netcat)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var nc = Process.Start(info)!;
        var stdout = nc.StandardOutput.ReadToEndAsync();
        var stderr = nc.StandardError.ReadToEndAsync();
        await nc.StandardInput.BaseStream.WriteAsync(Encoding.UTF8.GetBytes(input));
        nc.StandardInput.Close();
        try
        {
            await nc.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(15));
        }
        catch (TimeoutException)
        {
            nc.Kill();
            throw new TimeoutException($"nc did not finish; stdout so far: {await stdout} stderr: {await stderr}");
        }
        Assert.Equal("", await stderr);
        return (nc.ExitCode, await stdout);
    }
}
