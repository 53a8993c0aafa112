// ActorTcp: a TCP server on Akka.NET. The wire contract is docs/PROTOCOL.md.
using System.Runtime.InteropServices;
using ActorTcp.Protocol;

namespace ActorTcp.Files;

/// <summary>The outcome of looking a request path up in the served folder.</summary>
internal enum LookupStatus { Found, NotFound, Forbidden }

/// <summary>A regular file inside the served folder, as a request named it.</summary>
internal sealed record ServedFile(string FullPath, long Size);

/// <summary>One LIST line: the file's size and its path relative to the served folder, with '/'.</summary>
internal sealed record ListEntry(long Size, string Path);

/// <summary>A LIST answer: the entries, sorted, or why there are none.</summary>
internal sealed record ListResult(LookupStatus Status, IReadOnlyList<ListEntry> Entries, bool TooMany);

/// <summary>
/// The sandbox over <c>files-root</c>: every path a client names is resolved through its real path (links
/// followed), and nothing outside the root's real path is ever opened or listed.
/// </summary>
internal sealed class FileStore
{
    private readonly string _root;

    public FileStore(string root)
    {
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full)) throw new DirectoryNotFoundException($"'{root}' ({full}) does not exist");
        _root = RealPath(full) ?? full;
        // Listing it proves it is readable now rather than at the first client's request.
        using var probe = Directory.EnumerateFileSystemEntries(_root).GetEnumerator();
        probe.MoveNext();
    }

    public string Root => _root;

    /// <summary>Resolves a GET path: only a regular, visible file whose real path lies inside the root is Found.</summary>
    public (LookupStatus Status, ServedFile? File) Lookup(string requestPath)
    {
        var check = CheckRequestPath(requestPath, allowEmpty: false);
        if (check != LookupStatus.Found) return (check, null);
        var real = RealPath(Path.Combine(_root, requestPath));
        if (real is null || real == _root) return (LookupStatus.NotFound, null);
        if (!IsInside(real)) return (LookupStatus.Forbidden, null);
        if (HasHiddenOrBadSegment(Path.GetRelativePath(_root, real), out var hidden))
            return (hidden ? LookupStatus.Forbidden : LookupStatus.NotFound, null);
        try
        {
            var info = new FileInfo(real);
            if (!info.Exists || !IsRegular(real))
                return (LookupStatus.NotFound, null);
            return (LookupStatus.Found, new ServedFile(real, info.Length));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return (LookupStatus.NotFound, null);
        }
    }

    /// <summary>
    /// Lists the regular files under the root (or a folder of it), recursively, following links that stay inside,
    /// each real file once, sorted by UTF-8 bytes. Blocking: run it off the actor's thread.
    /// </summary>
    public ListResult List(string? folder, int maxEntries)
    {
        var start = _root;
        // Paths are listed the way GET takes them: './sub' and 'sub//x' are written 'sub' and 'sub/x'.
        var normalized = string.Join('/', (folder ?? "").Split('/').Where(s => s.Length > 0 && s != "."));
        if (normalized.Length > 0)
        {
            var check = CheckRequestPath(folder!, allowEmpty: true);
            if (check != LookupStatus.Found) return new ListResult(check, [], false);
            var real = RealPath(Path.Combine(_root, normalized));
            if (real is null || !Directory.Exists(real)) return new ListResult(LookupStatus.NotFound, [], false);
            if (real != _root && !IsInside(real)) return new ListResult(LookupStatus.Forbidden, [], false);
            // A link to a hidden folder is as hidden as the folder: GET would refuse everything under it.
            if (real != _root && HasHiddenOrBadSegment(Path.GetRelativePath(_root, real), out var hidden))
                return new ListResult(hidden ? LookupStatus.Forbidden : LookupStatus.NotFound, [], false);
            start = real;
        }

        var prefix = normalized.Length == 0 ? "" : normalized + "/";
        var found = new List<(ListEntry Entry, string Real)>();
        var visitedDirs = new HashSet<string>(StringComparer.Ordinal) { start };
        var pending = new Stack<(string Dir, string Rel)>();
        pending.Push((start, prefix));
        // The walk stops just past the limit: what matters then is only that there are too many.
        var cap = maxEntries + 1;
        while (pending.Count > 0 && found.Count < cap * 2)
        {
            var (dir, rel) = pending.Pop();
            IEnumerable<string> names;
            try { names = Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName).OfType<string>().ToList(); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            foreach (var name in names)
            {
                if (IsHiddenOrBadName(name)) continue;
                var real = RealPath(Path.Combine(dir, name));
                // Listed only what GET serves: inside the root, and not reached through a hidden or unreadable name.
                if (real is null || !IsInside(real) || HasHiddenOrBadSegment(Path.GetRelativePath(_root, real), out _)) continue;
                if (Directory.Exists(real))
                {
                    if (visitedDirs.Add(real)) pending.Push((real, rel + name + "/"));
                }
                else if (IsRegular(real))
                {
                    long size;
                    try { size = new FileInfo(real).Length; }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
                    found.Add((new ListEntry(size, rel + name), real));
                }
            }
        }

        found.Sort((a, b) => Utf8Order.Instance.Compare(a.Entry.Path, b.Entry.Path));
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var entries = new List<ListEntry>();
        foreach (var (entry, real) in found)
        {
            if (!seen.Add(real)) continue;
            entries.Add(entry);
            if (entries.Count > maxEntries) return new ListResult(LookupStatus.Found, [], true);
        }
        return new ListResult(LookupStatus.Found, entries, false);
    }

    /// <summary>The checks on the text of a path, before the file system is asked anything.</summary>
    private static LookupStatus CheckRequestPath(string path, bool allowEmpty)
    {
        if (path.Length == 0) return allowEmpty ? LookupStatus.Found : LookupStatus.NotFound;
        if (path[0] == '/' || path[0] == '\\' || Path.IsPathRooted(path)) return LookupStatus.Forbidden;
        var segments = path.Split('/');
        if (segments.Any(s => s == "..")) return LookupStatus.Forbidden;
        foreach (var segment in segments)
        {
            if (segment.Length == 0 || segment == ".") continue;
            if (segment[0] == '.') return LookupStatus.Forbidden;
            if (segment.Any(char.IsControl) || segment.Contains('\uFFFD')) return LookupStatus.NotFound;
        }
        return LookupStatus.Found;
    }

    private static bool HasHiddenOrBadSegment(string relative, out bool hidden)
    {
        hidden = false;
        foreach (var segment in relative.Split('/'))
        {
            if (segment.Length > 0 && segment[0] == '.') { hidden = true; return true; }
            if (segment.Any(char.IsControl) || segment.Contains('\uFFFD')) return true;
        }
        return false;
    }

    // Names the file system could not decode as UTF-8 arrive with U+FFFD in them: such names cannot be
    // requested faithfully, so they are neither listed nor served.
    private static bool IsHiddenOrBadName(string name) =>
        name.Length == 0 || name[0] == '.' || name.Any(char.IsControl) || name.Contains('\uFFFD');

    private bool IsInside(string real) => real.StartsWith(_root + "/", StringComparison.Ordinal);

    /// <summary>
    /// A regular file, not a directory, FIFO, socket or device: reading a FIFO could block a transfer forever.
    /// </summary>
    private static bool IsRegular(string real)
    {
        if (!OperatingSystem.IsLinux()) return File.Exists(real);
        var buffer = new byte[256];
        if (Native.stat(real, buffer) != 0) return false;
        // st_mode sits after st_dev, st_ino (and st_nlink on x86-64) in the kernel's struct stat.
        var modeOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 24 : 16;
        var mode = BitConverter.ToUInt32(buffer, modeOffset);
        return (mode & 0xF000) == 0x8000;
    }

    /// <summary>The canonical path with every link resolved, or null if it does not exist.</summary>
    private static string? RealPath(string path)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
            return File.Exists(path) || Directory.Exists(path) ? Path.GetFullPath(path) : null;
        var p = Native.realpath(path, IntPtr.Zero);
        if (p == IntPtr.Zero) return null;
        try { return Marshal.PtrToStringUTF8(p); }
        finally { Native.free(p); }
    }

    private static class Native
    {
        [DllImport("libc", SetLastError = true)]
        public static extern IntPtr realpath([MarshalAs(UnmanagedType.LPUTF8Str)] string path, IntPtr resolved);

        [DllImport("libc")]
        public static extern void free(IntPtr p);

        [DllImport("libc", SetLastError = true)]
        public static extern int stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, byte[] buffer);
    }
}
