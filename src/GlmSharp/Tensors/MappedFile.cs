using System.IO.MemoryMappedFiles;

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
