using System.Runtime.Intrinsics;
using GlmSharp.Tensors;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Q4_0 and Q8_0 matrices repacked once at load into <see cref="GgmlType.Q4_0x8"/> / <see cref="GgmlType.Q8_0x8"/>, the
/// layout of <see cref="RepackedInt8Kernels"/> (the idea of llama.cpp's CPU "repack" buffer): rows in groups of eight,
/// and for each 32-value block of a group its eight fp16 scales (16 bytes), then its codes as 32-byte chunks whose
/// 4-byte lane r holds four consecutive code bytes of row r. A chunk then meets four broadcast activation bytes with
/// its lanes as eight output rows, so no sum crosses lanes. Q4_0 chunk c holds code bytes 4c…4c+3 (elements 4c…4c+3 in
/// the low nibbles, 16+4c… in the high); Q8_0 chunk c holds codes 4c…4c+3 as they are, signed. A group
/// takes the bytes of its eight stored rows, so the copy is as large as the stored matrix. Q4_K and Q5_K matrices become
/// <see cref="GgmlType.Q4_Kx8"/> / <see cref="GgmlType.Q5_Kx8"/> the same way, super-block by super-block
/// (<see cref="ScaleMinRepack"/>), Q5_0 and Q5_1 matrices
/// <see cref="GgmlType.Q5_0x8"/> / <see cref="GgmlType.Q5_1x8"/> with their fifth bits re-ordered (<see cref="Q5Repack"/>), Q6_K matrices
/// <see cref="GgmlType.Q6_Kx8"/> with each code in one byte (<see cref="Q6KRepack"/>). IQ4_NL blocks have Q4_0's
/// shape (an fp16 scale and sixteen bytes of nibbles), so <see cref="GgmlType.IQ4_NLx8"/> is Q4_0's layout.
/// </summary>
internal static unsafe class Int8Repack
{
    public const int Rows = 8;
    private const int ScaleBytes = Rows * sizeof(ushort);

    /// <summary>The repacked type of a stored matrix the repacked kernels can take, or null to keep it as stored.</summary>
    public static GgmlType? RepackedType(TensorView stored) =>
        stored.Shape.Length == 2 && stored.Shape[0] % Rows == 0 && stored.Scales is null
            ? stored.Type switch { GgmlType.Q4_0 => GgmlType.Q4_0x8, GgmlType.Q8_0 => GgmlType.Q8_0x8, GgmlType.Q4_K => GgmlType.Q4_Kx8, GgmlType.Q5_0 => GgmlType.Q5_0x8, GgmlType.IQ4_NL => GgmlType.IQ4_NLx8, GgmlType.Q6_K => GgmlType.Q6_Kx8, GgmlType.Q5_K => GgmlType.Q5_Kx8, GgmlType.Q5_1 => GgmlType.Q5_1x8, _ => null }
            : null;

    /// <summary>
    /// A repacked copy of <paramref name="stored"/> in 64-byte-aligned memory the returned view keeps alive; or
    /// <paramref name="stored"/> itself when a block scale is infinite or NaN, which the repacked kernels do not convert.
    /// </summary>
    public static TensorView Repack(WorkerPool pool, TensorView stored, GgmlType repacked)
    {
        var memory = new RepackedMemory(stored.ByteLength);
        var job = new Job
        {
            Source = stored.Data, Target = memory.Pointer, Type = repacked, SourceFileMapped = stored.FileMapped,
            Blocks = checked((int)(stored.Shape[1] / GgmlTypeInfo.BlockSize(repacked))),
            RowBytes = GgmlTypeInfo.RowByteSize(stored.Type, stored.Shape[1]),
            Groups = checked((int)(stored.Shape[0] / Rows)),
        };
        pool.For((job.Groups + GroupsPerItem - 1) / GroupsPerItem, &RepackItem, &job);
        if (job.NonFiniteScale != 0)
        {
            memory.Dispose();
            return stored;
        }
        return new TensorView(stored.Name, repacked, [.. stored.Shape], memory.Pointer, stored.ByteLength, stored.Origin) { Storage = memory };
    }

    /// <summary>Groups of eight rows per work item: items of a few hundred KiB, enough of them to share between threads.</summary>
    private const int GroupsPerItem = 16;

    private struct Job
    {
        public byte* Source, Target;
        public GgmlType Type;
        public bool SourceFileMapped;
        public int Blocks, Groups, NonFiniteScale;
        public long RowBytes;
    }

    private static void RepackItem(void* context, int item, int thread)
    {
        var job = (Job*)context;
        int end = Math.Min(job->Groups, (item + 1) * GroupsPerItem);
        for (int g = item * GroupsPerItem; g < end; g++) RepackGroup(job, g);
        // The stored bytes are not read again; mapped from the file they would stay resident beside their copy.
        if (job->SourceFileMapped)
        {
            long groupBytes = Rows * job->RowBytes, first = (long)item * GroupsPerItem * groupBytes;
            MappedFile.ReleasePages(job->Source + first, (end - (long)item * GroupsPerItem) * groupBytes);
        }
    }

    private static void RepackGroup(Job* job, int group)
    {
        byte* source = job->Source + group * Rows * job->RowBytes;
        byte* target = job->Target + group * Rows * job->RowBytes;
        if (job->Type is GgmlType.Q4_Kx8 or GgmlType.Q5_Kx8)
        {
            for (int b = 0; b < job->Blocks; b++)
                if (!ScaleMinRepack.RepackBlock(source, job->RowBytes, b, target, fiveBit: job->Type == GgmlType.Q5_Kx8)) job->NonFiniteScale = 1;
            return;
        }
        if (job->Type is GgmlType.Q5_0x8 or GgmlType.Q5_1x8)
        {
            for (int b = 0; b < job->Blocks; b++)
                if (!Q5Repack.RepackBlock(source, job->RowBytes, b, target, hasMin: job->Type == GgmlType.Q5_1x8)) job->NonFiniteScale = 1;
            return;
        }
        if (job->Type == GgmlType.Q6_Kx8)
        {
            for (int b = 0; b < job->Blocks; b++)
                if (!Q6KRepack.RepackBlock(source, job->RowBytes, b, target)) job->NonFiniteScale = 1;
            return;
        }
        int codeBytes = job->Type is GgmlType.Q4_0x8 or GgmlType.IQ4_NLx8 ? Int8Kernels.Block / 2 : Int8Kernels.Block;
        int blockBytes = sizeof(ushort) + codeBytes;
        for (int b = 0; b < job->Blocks; b++, target += Rows * blockBytes)
        {
            var scales = (ushort*)target;
            var chunks = (uint*)(target + ScaleBytes);
            for (int r = 0; r < Rows; r++)
            {
                byte* block = source + r * job->RowBytes + b * blockBytes;
                scales[r] = *(ushort*)block;
                if (HalfFloat.IsNonFinite(scales[r])) job->NonFiniteScale = 1;
                var codes = (uint*)(block + sizeof(ushort));
                for (int c = 0; c < codeBytes / 4; c++) chunks[c * Rows + r] = codes[c];
            }
        }
    }

    /// <summary>
    /// The eight rows of the group that starts at row <paramref name="firstRow"/> of a matrix of <paramref name="inputs"/>
    /// columns, as stored, one after another at <paramref name="dst"/>: the prefill tile's unpacking reads the stored layout.
    /// </summary>
    public static void CopyGroupRows(GgmlType repacked, byte* matrix, long rowBytes, long firstRow, int inputs, byte* dst)
    {
        int blocks = inputs / GgmlTypeInfo.BlockSize(repacked), blockBytes = GgmlTypeInfo.BytesPerBlock(repacked);
        if (repacked is GgmlType.Q4_Kx8 or GgmlType.Q5_Kx8) ScaleMinRepack.CopyGroupRows(matrix, rowBytes, firstRow, blocks, dst, fiveBit: repacked == GgmlType.Q5_Kx8);
        else if (repacked is GgmlType.Q5_0x8 or GgmlType.Q5_1x8) Q5Repack.CopyGroupRows(matrix, rowBytes, firstRow, blocks, dst, hasMin: repacked == GgmlType.Q5_1x8);
        else
        {
            int chunks = (blockBytes - sizeof(ushort)) / 4;
            byte* source = matrix + firstRow * rowBytes;
            for (int b = 0; b < blocks; b++, source += Rows * blockBytes)
                for (int r = 0; r < Rows; r++)
                {
                    byte* stored = dst + r * rowBytes + (long)b * blockBytes;
                    *(ushort*)stored = ((ushort*)source)[r];
                    for (int c = 0; c < chunks; c++) ((uint*)(stored + sizeof(ushort)))[c] = ((uint*)(source + ScaleBytes))[c * Rows + r];
                }
        }
    }

    /// <summary>Block <paramref name="block"/> of row <paramref name="row"/> of a repacked matrix as stored (18, 22, 24, 34, 144, 176 or 210 bytes at <paramref name="dst"/>).</summary>
    public static void CopyBlock(GgmlType repacked, byte* matrix, long rowBytes, long row, int block, byte* dst)
    {
        if (repacked is GgmlType.Q4_Kx8 or GgmlType.Q5_Kx8)
        {
            ScaleMinRepack.CopyBlock(matrix, rowBytes, row, block, dst, fiveBit: repacked == GgmlType.Q5_Kx8);
            return;
        }
        if (repacked is GgmlType.Q5_0x8 or GgmlType.Q5_1x8)
        {
            Q5Repack.CopyBlock(matrix, rowBytes, row, block, dst, hasMin: repacked == GgmlType.Q5_1x8);
            return;
        }
        if (repacked == GgmlType.Q6_Kx8)
        {
            Q6KRepack.CopyBlock(matrix, rowBytes, row, block, dst);
            return;
        }
        int blockBytes = GgmlTypeInfo.BytesPerBlock(repacked);
        int lane = (int)(row % Rows);
        byte* source = matrix + row / Rows * Rows * rowBytes + (long)block * Rows * blockBytes;
        *(ushort*)dst = ((ushort*)source)[lane];
        var chunks = (uint*)(source + ScaleBytes);
        for (int c = 0; c < (blockBytes - sizeof(ushort)) / 4; c++) ((uint*)(dst + sizeof(ushort)))[c] = chunks[c * Rows + lane];
    }

    /// <summary>
    /// The repacked copy's memory: freed with the view that holds it (or by the finalizer), and reported to the GC as
    /// pressure so that the copies of a model nobody holds any more are collected soon.
    /// </summary>
    private sealed class RepackedMemory : IDisposable
    {
        private readonly AlignedNativeMemory _memory;

        public RepackedMemory(long bytes)
        {
            _memory = new AlignedNativeMemory(bytes);
            GC.AddMemoryPressure(Math.Max(bytes, 1));
        }

        public byte* Pointer => _memory.Pointer;

        ~RepackedMemory() => Release();

        public void Dispose()
        {
            Release();
            GC.SuppressFinalize(this);
        }

        private void Release()
        {
            if (_memory.IsClosed) return;
            GC.RemoveMemoryPressure(Math.Max(_memory.Length, 1));
            _memory.Dispose();
        }
    }
}
