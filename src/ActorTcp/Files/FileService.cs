using Microsoft.Win32.SafeHandles;

namespace ActorTcp.Files;

/// <summary>The served folder, and how a transfer opens and reads a file from it.</summary>
public sealed class FileService(FileStore store)
{
    /// <summary>Bytes read from the file per chunk; also the largest data frame the binary listener sends.</summary>
    public const int ChunkSize = 64 * 1024;

    public FileStore Store { get; } = store;

    /// <summary>
    /// Opens for reading, sharing with writers and deleters: a file deleted meanwhile stays readable on Linux, and
    /// one truncated meanwhile simply ends early.
    /// </summary>
    public static SafeFileHandle Open(ServedFile file) =>
        File.OpenHandle(file.FullPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, FileOptions.Asynchronous);
}
