// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
namespace ActorTcp.Configuration;

/// <summary>The process's file-descriptor limit, which bounds how many sockets (and open files) it can hold.</summary>
internal static class DescriptorLimits
{
    /// <summary>What Linux applies when /proc cannot tell us: the common default soft limit.</summary>
    private const long Fallback = 1024;

    /// <summary>The soft limit on open files (.NET lifts it to the hard limit at start).</summary>
    public static long Current()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/limits"))
            {
                if (!line.StartsWith("Max open files", StringComparison.Ordinal)) continue;
                var fields = line["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 0 && long.TryParse(fields[0], out var soft)) return soft;
                if (fields.Length > 0 && fields[0] == "unlimited") return int.MaxValue;
            }
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return OperatingSystem.IsLinux() ? Fallback : 16_384;
    }
}
