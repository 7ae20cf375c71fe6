using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace GlmSharp.Tensors;

/// <summary>A whole file mapped read-only into memory; tensor views point straight into it.</summary>
internal sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private bool _disposed;

    public string Path { get; }
    public long Length { get; }

    /// <summary>First byte of the file; null for an empty file.</summary>
    public byte* Pointer { get; }

    public MappedFile(string path)
    {
        Path = path;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        Length = stream.Length;
        if (Length == 0) return;

        _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        Pointer = p + _view.PointerOffset;
    }

    public ReadOnlySpan<byte> Span(long offset, int length) => new(Pointer + offset, length);

    /// <summary>
    /// Drops the whole pages of [start, start + length) from this process's mappings (madvise MADV_DONTNEED on Linux;
    /// elsewhere nothing): they stay in the page cache, no longer count in the process's resident set, and a later read
    /// maps them again. For bytes a backend has copied into a layout of its own (a repacked matrix), which would
    /// otherwise stay resident twice. Only for file mappings: on anonymous memory the same call discards the contents.
    /// </summary>
    public static void ReleasePages(byte* start, long length)
    {
        if (!OperatingSystem.IsLinux() || length <= 0) return;
        ulong page = (ulong)Environment.SystemPageSize;
        ulong first = ((ulong)start + page - 1) & ~(page - 1);
        ulong end = ((ulong)start + (ulong)length) & ~(page - 1);
        if (end > first) _ = Madvise((void*)first, (nuint)(end - first), DontNeed);
    }

    private const int DontNeed = 4;

    [DllImport("libc", EntryPoint = "madvise")]
    private static extern int Madvise(void* address, nuint length, int advice);

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
