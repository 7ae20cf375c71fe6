using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Kernels;
using GlmSharp.Models.Blocks;
using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>Which positions of a forward pass need logits.</summary>
public enum LogitsFor
{
    LastToken,
    AllTokens,
}

/// <summary>
/// The frame every GLM text model shares: token embedding → decoder layers → final RMSNorm → LM head
/// (or the embedding matrix when tied). Architecture files supply the layers.
/// </summary>
public sealed class CausalLm : IDisposable
{
    /// <summary>
    /// Tokens run through the layers together; bounds the activation buffers, not the prompt length. 512 as
    /// llama.cpp's micro-batch: prefill kernels unpack or transpose each weight block once per batch, so a batch of 64
    /// repeated that work eight times over a 512-token prompt (measured: F16 prefill at half speed).
    /// </summary>
    public const int DefaultBatchRows = 512;

    private readonly IComputeBackend _backend;
    private readonly TensorView _embedding;
    private readonly IDecoderLayer[] _layers;
    private readonly RmsNorm _finalNorm;
    private readonly Linear _head;
    private readonly ITensorSource _weights;

    public ModelConfig Config { get; }
    public string Origin => _weights.Origin;

    /// <summary>The checkpoint's tensors, under Hugging Face names.</summary>
    public ITensorSource Weights => _weights;

    public CausalLm(ModelConfig config, ITensorSource owner, WeightBuilder weights, IDecoderLayer[] layers)
    {
        Config = config;
        _weights = owner;
        _backend = weights.Backend;
        _layers = layers;
        var backend = weights.Backend;
        var w = weights.At("model");
        _embedding = w.Matrix("embed_tokens.weight", config.VocabSize, config.HiddenSize);
        _finalNorm = RmsNorm.Load(w, backend, "norm", config.HiddenSize, config.RmsNormEps);
        var root = weights;
        _head = config.TieWordEmbeddings && !root.Has("lm_head.weight")
            ? new Linear(backend, _embedding, null)
            : Linear.Load(root, backend, "lm_head", config.HiddenSize, config.VocabSize);
    }

    /// <summary>Builds the frame around one decoder layer per <c>model.layers.N</c>.</summary>
    public static CausalLm FromLayers(ModelConfig config, ITensorSource owner, WeightBuilder weights, Func<WeightBuilder, IDecoderLayer> layer)
    {
        var layers = weights.At("model").At("layers");
        var blocks = new IDecoderLayer[config.NumLayers];
        for (int i = 0; i < blocks.Length; i++) blocks[i] = layer(layers.At(i));
        return new CausalLm(config, owner, weights, blocks);
    }

    /// <summary>A new, empty conversation; its KV cache holds <paramref name="cacheType"/> values (F16 unless asked, as llama.cpp).</summary>
    public ModelSession CreateSession(int? contextLength = null, int maxBatchRows = DefaultBatchRows, KvCacheType cacheType = KvCacheType.F16)
    {
        int context = contextLength ?? Config.MaxPositions;
        if (context <= 0 || context > Config.MaxPositions)
            throw new ContextLimitException($"context length {context} is outside 1..{Config.MaxPositions} (max_position_embeddings of {Origin})");
        return new ModelSession(Config, context, Math.Min(maxBatchRows, context), cacheType);
    }

    /// <summary>
    /// Appends <paramref name="tokens"/> to the session and writes logits: [vocab] for the last token,
    /// or [tokens, vocab] for all of them.
    /// </summary>
    public void Forward(ReadOnlySpan<int> tokens, ModelSession session, Span<float> logits, LogitsFor mode = LogitsFor.LastToken)
    {
        int vocab = Config.VocabSize;
        if (tokens.IsEmpty) throw new ArgumentException("at least one token is needed", nameof(tokens));
        if (session.Length + tokens.Length > session.ContextLength)
            throw new ContextLimitException(
                $"{tokens.Length} new tokens after {session.Length} cached ones exceed the context of {session.ContextLength} tokens");
        int needed = mode == LogitsFor.AllTokens ? tokens.Length * vocab : vocab;
        if (logits.Length < needed) throw new ArgumentException($"logits buffer holds {logits.Length} values, {needed} needed", nameof(logits));
        foreach (int token in tokens)
            if ((uint)token >= (uint)vocab)
                throw new ContextLimitException($"token id {token} is outside the vocabulary 0..{vocab - 1} of {Origin}");

        var scratch = session.Scratch;
        for (int start = 0; start < tokens.Length; start += scratch.MaxRows)
        {
            int rows = Math.Min(scratch.MaxRows, tokens.Length - start);
            var hidden = scratch.Hidden(rows);
            for (int r = 0; r < rows; r++)
                _backend.GatherRow(_embedding, tokens[start + r], hidden.Slice(r * Config.HiddenSize, Config.HiddenSize));
            for (int l = 0; l < _layers.Length; l++)
                _layers[l].Forward(hidden, rows, session.Length, session.Layers[l], scratch);
            session.Length += rows;

            var normed = scratch.Normed(rows);
            if (mode == LogitsFor.AllTokens)
            {
                _finalNorm.Apply(hidden, normed, rows);
                _head.Forward(normed, logits.Slice(start * vocab, rows * vocab), rows);
            }
            else if (start + rows == tokens.Length)
            {
                int last = (rows - 1) * Config.HiddenSize;
                _finalNorm.Apply(hidden.Slice(last, Config.HiddenSize), normed, 1);
                _head.Forward(normed[..Config.HiddenSize], logits[..vocab], 1);
            }
        }
    }

    public void Dispose() => _weights.Dispose();
}
