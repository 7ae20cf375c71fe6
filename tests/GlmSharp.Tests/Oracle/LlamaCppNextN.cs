using System.Runtime.InteropServices;
using GlmSharp.Kernels;
using LLama;
using LLama.Native;

namespace GlmSharp.Tests.Oracle;

/// <summary>
/// llama.cpp's multi-token-prediction draft graph (a context of type MTP), which this llama.cpp has for glm-dsa:
/// each row of a decode takes a token and a hidden state together (llama_batch with both <c>token</c> and <c>embd</c>, as
/// llama.cpp's own MTP driver fills it), runs enorm / hnorm / eh_proj, the NextN block and the shared head, and writes
/// the draft logits. The next-step hidden state comes from <c>llama_get_embeddings_nextn_ith</c>, which libllama exports
/// only under its C++ (mangled) name, found with <c>nm -D</c> and called by that name.
/// </summary>
internal static unsafe class LlamaCppNextN
{
    private static readonly Lazy<nint> Library = new(() => GgmlTypeTraits.LoadLoaded("libllama.so"));

    /// <summary>llama_set_embeddings_nextn(llama_context*, bool value, bool masked).</summary>
    private const string SetEmbeddingsNextN = "_Z26llama_set_embeddings_nextnP13llama_contextbb";

    /// <summary>llama_get_embeddings_nextn_ith(llama_context*, int32_t i).</summary>
    private const string GetEmbeddingsNextNIth = "_Z30llama_get_embeddings_nextn_ithP13llama_contexti";

    /// <summary>llama.h's llama_batch, field for field.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct NativeBatch
    {
        public int Count;
        public int* Tokens;
        public float* Embeddings;
        public int* Positions;
        public int* SequenceIdCounts;
        public int** SequenceIds;
        public sbyte* Logits;
    }

    /// <summary>
    /// The draft logits of every row ([rows, vocab]) and the hidden state the draft graph hands the next step for each
    /// row ([rows, hidden]: its output after shared_head.norm), with the rows fed in the given parts, one decode each, so
    /// that later parts read the cache the earlier ones wrote. Row i takes <paramref name="tokens"/>[i] and row i of
    /// <paramref name="hidden"/> at position i.
    /// </summary>
    public static (float[] Logits, float[] NextHidden) Draft(string ggufPath, int[] tokens, float[] hidden, int vocab, int context, params int[] parts)
    {
        int rows = tokens.Length, width = hidden.Length / rows;
        var p = LlamaCpp.Parameters(ggufPath, context, KvCacheType.F32, contextType: LLamaContextType.Mtp);
        using var weights = LLamaWeights.LoadFromFile(p);
        int layers = ((delegate* unmanaged<nint, int>)Export("llama_model_n_layer_nextn"))(weights.NativeHandle.DangerousGetHandle());
        if (layers != 1) throw new InvalidOperationException($"{ggufPath}: llama.cpp reports {layers} NextN layers, expected 1");
        using var ctx = weights.CreateContext(p);
        nint handle = ctx.NativeHandle.DangerousGetHandle();
        ((delegate* unmanaged<nint, byte, byte, void>)Export(SetEmbeddingsNextN))(handle, 1, 0);
        var decode = (delegate* unmanaged<nint, NativeBatch, int>)Export("llama_decode");
        var getHidden = (delegate* unmanaged<nint, int, float*>)Export(GetEmbeddingsNextNIth);

        var logits = new float[rows * vocab];
        var nextHidden = new float[rows * width];
        int start = 0;
        foreach (int count in parts.Length == 0 ? new[] { rows } : parts)
        {
            var positions = Enumerable.Range(start, count).ToArray();
            var idCounts = Enumerable.Repeat(1, count).ToArray();
            var wanted = Enumerable.Repeat((sbyte)1, count).ToArray();
            int sequence = 0;
            var ids = new nint[count];
            fixed (int* t = &tokens[start], pos = positions, n = idCounts)
            fixed (float* e = &hidden[start * width])
            fixed (sbyte* l = wanted)
            fixed (nint* idRows = ids)
            {
                for (int i = 0; i < count; i++) ids[i] = (nint)(&sequence);
                var batch = new NativeBatch { Count = count, Tokens = t, Embeddings = e, Positions = pos, SequenceIdCounts = n, SequenceIds = (int**)idRows, Logits = l };
                int result = decode(handle, batch);
                if (result != 0) throw new InvalidOperationException($"llama.cpp's MTP decode of rows {start}..{start + count - 1} failed: {result}");
            }
            for (int i = 0; i < count; i++)
            {
                ctx.NativeHandle.GetLogitsIth(i)[..vocab].CopyTo(logits.AsSpan((start + i) * vocab, vocab));
                float* row = getHidden(handle, i);
                if (row == null) throw new InvalidOperationException($"llama.cpp returned no NextN hidden state for row {start + i}");
                new ReadOnlySpan<float>(row, width).CopyTo(nextHidden.AsSpan((start + i) * width, width));
            }
            start += count;
        }
        if (start != rows) throw new ArgumentException($"the parts cover {start} of {rows} rows", nameof(parts));
        return (logits, nextHidden);
    }

    private static nint Export(string name) => NativeLibrary.GetExport(Library.Value, name);
}
