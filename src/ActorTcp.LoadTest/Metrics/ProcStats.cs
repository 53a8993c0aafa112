// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Globalization;

namespace ActorTcp.LoadTest.Metrics;

/// <summary>Memory and CPU of processes, read from /proc (Linux); zeros elsewhere.</summary>
internal static class ProcStats
{
    // USER_HZ is 100 on every Linux configuration .NET runs on.
    private const double TicksPerSecond = 100;

    public static long OwnPeakRssKb() => ReadStatusKb(Environment.ProcessId, "VmHWM:");

    public static long RssKb(int pid) => ReadStatusKb(pid, "VmRSS:");

    /// <summary>User plus system CPU seconds of a process so far; NaN when it is gone.</summary>
    public static double CpuSeconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name may hold spaces and parentheses: fields are counted after its last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var utime = long.Parse(fields[11], CultureInfo.InvariantCulture);
            var stime = long.Parse(fields[12], CultureInfo.InvariantCulture);
            return (utime + stime) / TicksPerSecond;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return double.NaN;
        }
    }

    /// <summary>Busy and total jiffies of the whole machine (all CPUs), from the first line of /proc/stat.</summary>
    public static (long Busy, long Total) MachineJiffies()
    {
        try
        {
            var line = File.ReadLines("/proc/stat").First();
            var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray();
            // user nice system idle iowait irq softirq steal ...: idle and iowait are the idle part.
            var total = values.Take(8).Sum();
            return (total - values[3] - values[4], total);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException or InvalidOperationException)
        {
            return (0, 0);
        }
    }

    private static long ReadStatusKb(int pid, string key)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    var digits = line[key.Length..].Trim().Split(' ')[0];
                    return long.Parse(digits, CultureInfo.InvariantCulture);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
        }
        return 0;
    }
}

/// <summary>The server processes under test (--server-pid), sampled at the run's phase changes.</summary>
internal sealed class ServerSampler(IReadOnlyList<int> pids)
{
    // Sampled even without --server-pid: the machine's load tells whether anything else competed with the run.
    public ServerStats Stats { get; private set; } = new();

    public bool Enabled => pids.Count > 0;

    public void AtStart() => Stats = Stats with { RssKbStart = Rss(), CpuSecondsStart = Cpu() };

    public void AtReady() => Stats = Stats with { RssKbReady = Rss() };

    private (long Busy, long Total) _machineStart;

    public void AtWindowStart()
    {
        Stats = Stats with { CpuSecondsWindowStart = Cpu() };
        _machineStart = ProcStats.MachineJiffies();
    }

    public void AtWindowEnd(double windowSeconds)
    {
        var machine = ProcStats.MachineJiffies();
        var total = machine.Total - _machineStart.Total;
        Stats = Stats with
        {
            RssKbEnd = Rss(),
            CpuSecondsWindowEnd = Cpu(),
            WindowSeconds = windowSeconds,
            // In % of one core, like the other CPU figures: 200 % is this whole 2-core box.
            MachineBusyPercent = total > 0 ? 100.0 * Environment.ProcessorCount * (machine.Busy - _machineStart.Busy) / total : 0,
        };
    }

    private long Rss() => pids.Sum(ProcStats.RssKb);

    private double Cpu() => pids.Sum(ProcStats.CpuSeconds);
}

internal sealed record ServerStats
{
    public long RssKbStart { get; init; }
    public long RssKbReady { get; init; }
    public long RssKbEnd { get; init; }
    public double CpuSecondsStart { get; init; }
    public double CpuSecondsWindowStart { get; init; }
    public double CpuSecondsWindowEnd { get; init; }
    public double WindowSeconds { get; init; }
    public double MachineBusyPercent { get; init; }

    /// <summary>Server CPU during the window, in % of one core.</summary>
    public double CpuPercent => WindowSeconds > 0 ? 100 * (CpuSecondsWindowEnd - CpuSecondsWindowStart) / WindowSeconds : 0;
}
