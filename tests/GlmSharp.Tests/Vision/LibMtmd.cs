using System.Text;
using GlmSharp.LlamaCppBench;
using GlmSharp.Vision;
using LLama;
using LLama.Common;
using LLama.Native;

namespace GlmSharp.Tests.Vision;

/// <summary>
/// llama.cpp's multimodal library (libmtmd, shipped with LLamaSharp.Backend.Cpu next to libllama) as the glm4v oracle.
/// The model and mmproj are loaded through LLamaSharp (which picks the build and resolves the library); the prompt is
/// tokenized, encoded and evaluated through libmtmd's C functions directly (<see cref="MtmdApi"/>, shared with the
/// llama.cpp bench tool). Everything runs in F32 with flash attention off, so the image encoder's keys and values are
/// not rounded to F16.
/// </summary>
internal static unsafe class LibMtmd
{
    public sealed record Result(int[] TextBefore, int[] TextAfter, int ImageRows, int ImageCols, float[] ImageEmbeddings, float[] LastLogits);

    private static readonly Lock InitLock = new();
    private static bool _initialised;

    /// <summary>Runs <paramref name="prompt"/> (with one <see cref="ImagePrompt.Marker"/>) and an RGB image through libmtmd.</summary>
    public static Result Run(string textGguf, string mmproj, RgbImage image, string prompt, int vocab, int maxImageTokens)
    {
        using var loaded = new Loaded(textGguf, mmproj, maxImageTokens);
        var api = MtmdApi.Instance;
        nint chunks = loaded.Tokenize(prompt, [image]);
        try
        {
            var (before, after, imageChunk) = Chunks(api, chunks);
            nint imageTokens = api.ChunkImageTokens(imageChunk);
            int rows = (int)api.ImageNy(imageTokens), cols = (int)api.ImageNx(imageTokens);

            if (api.EncodeChunk(loaded.Mtmd, imageChunk) != 0) throw new InvalidOperationException("mtmd_encode_chunk failed");
            int width = loaded.Weights.EmbeddingSize;
            var embeddings = new ReadOnlySpan<float>(api.OutputEmbd(loaded.Mtmd), rows * cols * width).ToArray();

            loaded.Evaluate(chunks);
            var logits = new ReadOnlySpan<float>(api.LogitsIth(loaded.Llama, -1), vocab).ToArray();
            return new Result(before, after, rows, cols, embeddings, logits);
        }
        finally
        {
            api.ChunksFree(chunks);
        }
    }

    /// <summary>
    /// libmtmd's greedy continuation of <paramref name="prompt"/> (one <see cref="ImagePrompt.Marker"/> per image, in
    /// order): the prompt's chunks evaluated as mtmd's helper does, then one argmax token at a time, each fed as a text
    /// token at the next position mtmd counts (past an image by max(rows, cols), as M-RoPE lays it out).
    /// </summary>
    public static int[] Greedy(string textGguf, string mmproj, IReadOnlyList<RgbImage> images, string prompt, int vocab, int maxImageTokens, int newTokens) =>
        GreedyWithPromptLogits(textGguf, mmproj, images, prompt, vocab, maxImageTokens, newTokens).Tokens;

    /// <summary><see cref="Greedy"/>, with the logits of the prompt's last position.</summary>
    public static (int[] Tokens, float[] PromptLogits) GreedyWithPromptLogits(string textGguf, string mmproj, IReadOnlyList<RgbImage> images, string prompt,
        int vocab, int maxImageTokens, int newTokens)
    {
        using var loaded = new Loaded(textGguf, mmproj, maxImageTokens);
        var api = MtmdApi.Instance;
        nint chunks = loaded.Tokenize(prompt, images);
        int position;
        try
        {
            position = loaded.Evaluate(chunks);
        }
        finally
        {
            api.ChunksFree(chunks);
        }
        var output = new List<int>();
        var logits = new ReadOnlySpan<float>(api.LogitsIth(loaded.Llama, -1), vocab);
        float[] promptLogits = logits.ToArray();
        var batch = new LLamaBatch();
        for (int step = 0; step < newTokens; step++)
        {
            int next = 0;
            for (int i = 1; i < vocab; i++) if (logits[i] > logits[next]) next = i;
            output.Add(next);
            batch.Clear();
            batch.Add(next, position++, LLamaSeqId.Zero, true);
            if (loaded.Context.Decode(batch) != DecodeResult.Ok) throw new InvalidOperationException("llama.cpp decode failed");
            logits = new ReadOnlySpan<float>(api.LogitsIth(loaded.Llama, 0), vocab);
        }
        return ([.. output], promptLogits);
    }

    /// <summary>A text model, its context and the mmproj, loaded as the oracle runs them.</summary>
    private sealed class Loaded : IDisposable
    {
        public LLamaWeights Weights { get; }
        public LLamaContext Context { get; }
        private readonly MtmdWeights _mtmd;

        public nint Mtmd => _mtmd.NativeHandle.DangerousGetHandle();
        public nint Llama => Context.NativeHandle.DangerousGetHandle();

        public Loaded(string textGguf, string mmproj, int maxImageTokens)
        {
            lock (InitLock)
            {
                if (!_initialised) NativeApi.llama_empty_call();
                _initialised = true;
            }
            var p = new ModelParams(textGguf)
            {
                ContextSize = 4096,
                BatchSize = 4096,
                UBatchSize = 4096,
                Threads = 2,
                TypeK = GGMLType.GGML_TYPE_F32,
                TypeV = GGMLType.GGML_TYPE_F32,
                GpuLayerCount = 0,
                FlashAttention = false,
            };
            Weights = LLamaWeights.LoadFromFile(p);
            Context = Weights.CreateContext(p);
            var mtmdParams = MtmdContextParams.Default();
            mtmdParams.UseGpu = false;
            mtmdParams.NThreads = 2;
            mtmdParams.Warmup = false;
            mtmdParams.FlashAttentionType = LLamaFlashAttentionType.LLAMA_FLASH_ATTENTION_TYPE_DISABLED;
            mtmdParams.ImageMaxTokens = maxImageTokens;
            _mtmd = MtmdWeights.LoadFromFile(mmproj, Weights, mtmdParams);
        }

        /// <summary>mtmd_tokenize of the prompt and its images (special tokens parsed, none added); free the chunks after.</summary>
        public nint Tokenize(string prompt, IReadOnlyList<RgbImage> images)
        {
            var api = MtmdApi.Instance;
            var bitmaps = new nint[images.Count];
            for (int i = 0; i < images.Count; i++)
                fixed (byte* pixels = images[i].Pixels) bitmaps[i] = api.BitmapInit((uint)images[i].Width, (uint)images[i].Height, pixels);
            nint chunks = api.ChunksInit();
            try
            {
                var utf8 = Encoding.UTF8.GetBytes(prompt);
                int status;
                fixed (byte* text = utf8)
                fixed (nint* bitmapList = bitmaps)
                {
                    var input = new MtmdInputText { Text = text, TextLength = (nuint)utf8.Length, AddSpecial = 0, ParseSpecial = 1 };
                    status = api.Tokenize(Mtmd, chunks, &input, bitmapList, (nuint)bitmaps.Length);
                }
                if (status != 0)
                {
                    api.ChunksFree(chunks);
                    throw new InvalidOperationException($"mtmd_tokenize failed: {status}");
                }
                return chunks;
            }
            finally
            {
                foreach (nint bitmap in bitmaps) api.BitmapFree(bitmap);
            }
        }

        /// <summary>mtmd_helper_eval_chunks over all chunks, logits for the last; returns the next position.</summary>
        public int Evaluate(nint chunks)
        {
            int newPast;
            if (MtmdApi.Instance.EvalChunks(Mtmd, Llama, chunks, 0, 0, 4096, 1, &newPast) != 0) throw new InvalidOperationException("mtmd_helper_eval_chunks failed");
            return newPast;
        }

        public void Dispose()
        {
            _mtmd.Dispose();
            Context.Dispose();
            Weights.Dispose();
        }
    }

    /// <summary>The text tokens before and after the one image chunk, and the image chunk.</summary>
    private static (int[] Before, int[] After, nint Image) Chunks(MtmdApi api, nint chunks)
    {
        var before = new List<int>();
        var after = new List<int>();
        nint image = 0;
        for (nuint i = 0; i < api.ChunksSize(chunks); i++)
        {
            nint chunk = api.ChunksGet(chunks, i);
            int type = api.ChunkType(chunk);
            if (type == MtmdApi.ImageChunk)
            {
                if (image != 0) throw new InvalidOperationException("libmtmd made two image chunks of one image");
                image = chunk;
                continue;
            }
            if (type != 0) throw new InvalidOperationException($"libmtmd made a chunk of type {type}");
            nuint count;
            int* tokens = api.ChunkTextTokens(chunk, &count);
            (image == 0 ? before : after).AddRange(new ReadOnlySpan<int>(tokens, (int)count));
        }
        if (image == 0) throw new InvalidOperationException("libmtmd made no image chunk");
        return ([.. before], [.. after], image);
    }
}
