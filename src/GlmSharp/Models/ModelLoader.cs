using GlmSharp.Configs;
using GlmSharp.Errors;
using GlmSharp.Formats;
using GlmSharp.Formats.Gguf;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tokenizers;

namespace GlmSharp.Models;

/// <summary>Opens a model from a Hugging Face folder (config.json + safetensors) or a GGUF file.</summary>
public static class ModelLoader
{
    public static LoadedModel Load(string path, IComputeBackend? backend = null)
    {
        backend ??= CpuBackend.Instance;
        if (Directory.Exists(path)) return LoadHuggingFace(path, backend);
        if (File.Exists(path)) return LoadGguf(path, backend);
        throw new ModelFormatException($"{path}: no such file or folder (expected a .gguf file or a Hugging Face model folder)");
    }

    private static LoadedModel LoadHuggingFace(string folder, IComputeBackend backend)
    {
        var configPath = Path.Combine(folder, "config.json");
        var configJson = ConfigJson.Load(configPath);
        var architecture = ModelRegistry.ByModelType(configJson.String("model_type"), configPath);
        var config = architecture.ConfigFromHf(configJson);
        ModelConfigLimits.Check(config, configPath);
        var tokenizer = File.Exists(Path.Combine(folder, HfTokenizerLoader.TokenizerFile))
            ? new BpeTokenizer(HfTokenizerLoader.LoadDirectory(folder), folder)
            : null;
        var generation = GenerationConfig.LoadFromFolder(folder);
        ITensorSource weights = new Fp8ScaledTensorSource(SafetensorsTensorSource.Open(folder), Fp8Quantization.FromConfig(configJson));
        try
        {
            weights = architecture.Sanitize(weights, configJson, config);
            return new LoadedModel(architecture.Build(config, weights, new WeightBuilder(weights, backend)), architecture, tokenizer, generation, folder);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    private static LoadedModel LoadGguf(string path, IComputeBackend backend)
    {
        var file = GgufFile.Open(path);
        try
        {
            string ggufArchitecture = file.Metadata.GetString("general.architecture");
            var architecture = ModelRegistry.ByGgufArchitecture(ggufArchitecture, path);
            var tensorNames = file.Tensors.Select(t => t.Name).ToHashSet();
            var config = architecture.ConfigFromGguf(new GgufModelMetadata(file.Metadata, ggufArchitecture, tensorNames, path));
            ModelConfigLimits.Check(config, path);
            var tokenizer = file.Metadata.TryGetString(GgufVocabulary.ModelKey, out var tokenizerModel) && tokenizerModel != "none"
                ? new BpeTokenizer(GgufVocabulary.FromMetadata(file.Metadata, path), path)
                : null;
            var weights = architecture.Sanitize(
                new GgufTensorSource(file, name => GlmTensorNames.GgufToHf(name, architecture.LayerTensorNames)), hfConfig: null, config);
            return new LoadedModel(architecture.Build(config, weights, new WeightBuilder(weights, backend)), architecture, tokenizer, GenerationConfig.Empty, path);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }
}
