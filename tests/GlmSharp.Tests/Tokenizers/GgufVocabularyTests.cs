using GlmSharp.Errors;
using GlmSharp.Tokenizers;

namespace GlmSharp.Tests.Tokenizers;

public class GgufVocabularyTests
{
    [Fact]
    public void Metadata_Round_Trip_Keeps_The_Vocabulary()
    {
        var v = TrainedVocabulary.Value;
        var metadata = GgufVocabulary.ToMetadata(v);
        Assert.Equal("gpt2", metadata["tokenizer.ggml.model"]);
        Assert.Equal("glm4", metadata["tokenizer.ggml.pre"]);
        Assert.IsType<string[]>(metadata["tokenizer.ggml.tokens"]);
        Assert.IsType<int[]>(metadata["tokenizer.ggml.token_type"]);
        Assert.IsType<uint>(metadata["tokenizer.ggml.eos_token_id"]);

        var back = GgufVocabulary.FromMetadata(metadata, "model.gguf");
        Assert.Equal(v.Tokens, back.Tokens);
        Assert.Equal(v.Kinds, back.Kinds);
        Assert.Equal(v.Merges, back.Merges);
        Assert.Equal(v.SpecialIds, back.SpecialIds);
        Assert.Equal(v.ChatTemplate, back.ChatTemplate);
    }

    [Fact]
    public void Non_Bpe_Model_Is_Unsupported()
    {
        var metadata = GgufVocabulary.ToMetadata(TrainedVocabulary.Value);
        metadata["tokenizer.ggml.model"] = "llama";
        var e = Assert.Throws<UnsupportedModelException>(() => GgufVocabulary.FromMetadata(metadata, "model.gguf"));
        Assert.Contains("tokenizer.ggml.model", e.Message);
        Assert.Contains("model.gguf", e.Message);
    }

    [Fact]
    public void Non_Glm_PreTokenizer_Is_Unsupported()
    {
        var metadata = GgufVocabulary.ToMetadata(TrainedVocabulary.Value);
        metadata["tokenizer.ggml.pre"] = "qwen2";
        var e = Assert.Throws<UnsupportedModelException>(() => GgufVocabulary.FromMetadata(metadata, "model.gguf"));
        Assert.Contains("tokenizer.ggml.pre", e.Message);
    }

    [Fact]
    public void ChatGlm_Bpe_PreTokenizer_Is_Accepted()
    {
        var metadata = GgufVocabulary.ToMetadata(TrainedVocabulary.Value);
        metadata["tokenizer.ggml.pre"] = "chatglm-bpe";
        Assert.Equal("chatglm-bpe", GgufVocabulary.FromMetadata(metadata, "model.gguf").PreTokenizer);
    }

    [Fact]
    public void Token_Type_Count_Mismatch_Is_A_Format_Error()
    {
        var metadata = GgufVocabulary.ToMetadata(TrainedVocabulary.Value);
        metadata["tokenizer.ggml.token_type"] = new int[3];
        var e = Assert.Throws<ModelFormatException>(() => GgufVocabulary.FromMetadata(metadata, "model.gguf"));
        Assert.Contains("tokenizer.ggml.token_type", e.Message);
    }

    [Fact]
    public void Merge_Without_A_Space_Is_A_Format_Error()
    {
        var metadata = GgufVocabulary.ToMetadata(TrainedVocabulary.Value);
        ((string[])metadata["tokenizer.ggml.merges"])[0] = "ab";
        var e = Assert.Throws<ModelFormatException>(() => GgufVocabulary.FromMetadata(metadata, "model.gguf"));
        Assert.Contains("tokenizer.ggml.merges'[0]", e.Message);
    }

    [Fact]
    public void Special_Id_Outside_The_Vocabulary_Is_A_Format_Error()
    {
        var metadata = GgufVocabulary.ToMetadata(TrainedVocabulary.Value);
        metadata["tokenizer.ggml.eos_token_id"] = 999_999u;
        var e = Assert.Throws<ModelFormatException>(() => GgufVocabulary.FromMetadata(metadata, "model.gguf"));
        Assert.Contains("eos_token_id", e.Message);
    }

    [Fact]
    public void Missing_Tokens_Is_A_Format_Error()
    {
        var metadata = GgufVocabulary.ToMetadata(TrainedVocabulary.Value);
        metadata.Remove("tokenizer.ggml.tokens");
        var e = Assert.Throws<ModelFormatException>(() => GgufVocabulary.FromMetadata(metadata, "model.gguf"));
        Assert.Contains("tokenizer.ggml.tokens", e.Message);
    }
}
