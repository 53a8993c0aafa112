// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Diagnostics;
using System.Text;

namespace ActorTcp.IntegrationTests;

/// <summary>Runs a command-line tool (openssl, ncat) as a user would, with input on its stdin; bounded in time.</summary>
public static class Tools
{
    public static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string tool, string input, params string[] args)
    {
        var path = new[] { "/usr/bin", "/usr/local/bin", "/bin" }.Select(d => Path.Combine(d, tool)).FirstOrDefault(File.Exists);
        // .ci/run installs every tool the tests use: a missing one is a failure, not a reason to skip.
        Assert.True(path is not null, $"{tool} is missing: install it (see .ci/run)");
        var info = new ProcessStartInfo(path!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.StandardInput.BaseStream.WriteAsync(Encoding.UTF8.GetBytes(input));
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw new TimeoutException($"{tool} did not finish; stdout so far: {await stdout} stderr: {await stderr}");
        }
        return (process.ExitCode, await stdout, await stderr);
    }
}
