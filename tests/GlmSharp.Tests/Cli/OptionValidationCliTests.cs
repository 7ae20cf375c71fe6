using GlmSharp.Models;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>
/// Every command's options and arguments (bench aside: BenchCliTests) refuse a bad value before any work starts: one
/// line "error: …" naming the option, the value and what is allowed, exit code 1, no stack trace.
/// </summary>
public sealed class OptionValidationCliTests
{
    // Stand-ins for paths that exist wherever the tests run; the commands below stop before reading them.
    private const string AnyFile = "{file}";
    private const string AnyFolder = "{folder}";

    private static readonly string QuantizeTypes = string.Join(", ", QuantizationScheme.Names);

    public static TheoryData<string, string[]> BadValues() => new()
    {
        { "--max-tokens -5: must be an integer ≥ 1", ["generate", "--prompt", "hi", "--max-tokens", "-5"] },
        { "--max-tokens 0: must be an integer ≥ 1", ["generate", "--prompt", "hi", "--max-tokens", "0"] },
        { "--max-tokens many: must be an integer ≥ 1", ["generate", "--prompt", "hi", "--max-tokens", "many"] },
        { "--temperature -1: must be a number ≥ 0", ["generate", "--prompt", "hi", "--temperature", "-1"] },
        { "--temperature NaN: must be a number ≥ 0", ["generate", "--prompt", "hi", "--temperature", "NaN"] },
        { "--top-k -1: must be an integer ≥ 0", ["generate", "--prompt", "hi", "--top-k", "-1"] },
        { "--top-p 0: must be a number in (0, 1]", ["generate", "--prompt", "hi", "--top-p", "0"] },
        { "--top-p 1.5: must be a number in (0, 1]", ["generate", "--prompt", "hi", "--top-p", "1.5"] },
        { "--min-p -0.1: must be a number in [0, 1)", ["generate", "--prompt", "hi", "--min-p", "-0.1"] },
        { "--min-p 1: must be a number in [0, 1)", ["generate", "--prompt", "hi", "--min-p", "1"] },
        { "--repeat-penalty 0: must be a number > 0", ["generate", "--prompt", "hi", "--repeat-penalty", "0"] },
        { "--presence-penalty Infinity: must be a number", ["generate", "--prompt", "hi", "--presence-penalty", "Infinity"] },
        { "--frequency-penalty high: must be a number", ["generate", "--prompt", "hi", "--frequency-penalty", "high"] },
        { "--seed 1.5: must be an integer", ["generate", "--prompt", "hi", "--seed", "1.5"] },
        { "--context 0: must be an integer ≥ 1", ["generate", "--prompt", "hi", "--context", "0"] },
        { "--cache-type q4_1: must be one of f32, f16, q8_0", ["generate", "--prompt", "hi", "--cache-type", "q4_1"] },
        { "--output xml: must be one of text, ids", ["generate", "--prompt", "hi", "--output", "xml"] },
        { "--token-ids 1,x: must be comma-separated token ids (integers ≥ 0), such as 1,2,3", ["generate", "--token-ids", "1,x"] },
        { "--token-ids ,: must be comma-separated token ids (integers ≥ 0), such as 1,2,3", ["generate", "--token-ids", ","] },
        { "--prompt: must not be empty", ["generate", "--prompt", ""] },
        { "--stop: must not be empty", ["generate", "--prompt", "hi", "--stop", "end", "--stop", ""] },
        { "--model no-such-model: no such file or folder", ["generate", "--prompt", "hi", "--model", "no-such-model"] },
        { "give exactly one of --prompt or --token-ids", ["generate"] },
        { "give exactly one of --prompt or --token-ids", ["generate", "--prompt", "hi", "--token-ids", "1"] },

        { "--max-tokens 0: must be an integer ≥ 1", ["chat", "--max-tokens", "0"] },
        { "--temperature -1: must be a number ≥ 0", ["chat", "--temperature", "-1"] },
        { "--top-p 2: must be a number in (0, 1]", ["chat", "--top-p", "2"] },
        { "--context -1: must be an integer ≥ 1", ["chat", "--context", "-1"] },
        { "--model no-such-model: no such file or folder", ["chat", "--model", "no-such-model"] },

        { "--model no-such-model: no such file or folder", ["tokenize", "--text", "hi", "--model", "no-such-model"] },
        { "--model no-such-model: no such file or folder", ["info", "--model", "no-such-model"] },

        { "--token-ids -3: must be comma-separated token ids (integers ≥ 0), such as 1,2,3", ["logits", "--token-ids", "-3", "--out", "logits.bin"] },
        { "--out /no-such-folder/logits.bin: folder /no-such-folder does not exist", ["logits", "--token-ids", "1", "--out", "/no-such-folder/logits.bin"] },
        { $"--out {AnyFolder}: is a folder; give a file name", ["logits", "--token-ids", "1", "--out", AnyFolder] },
        { "--cache-type q8: must be one of f32, f16, q8_0", ["logits", "--token-ids", "1", "--out", "logits.bin", "--cache-type", "q8"] },

        { "HF_FOLDER no-such-folder: no such folder", ["convert", "no-such-folder", "out.gguf"] },
        { $"HF_FOLDER {AnyFile}: is a file, not a folder", ["convert", AnyFile, "out.gguf"] },
        { "OUT.gguf /no-such-folder/out.gguf: folder /no-such-folder does not exist", ["convert", AnyFolder, "/no-such-folder/out.gguf"] },
        { "--type q4_0: must be one of f32, f16, bf16, q8_0", ["convert", AnyFolder, "out.gguf", "--type", "q4_0"] },

        { "IN no-such-model: no such file or folder", ["quantize", "no-such-model", "out.gguf", "--type", "q8_0"] },
        { $"OUT.gguf {AnyFolder}: is a folder; give a file name", ["quantize", AnyFile, AnyFolder, "--type", "q8_0"] },
        { $"--type q7_k: must be one of {QuantizeTypes}", ["quantize", AnyFile, "out.gguf", "--type", "q7_k"] },

        { "--file no-such-text.txt: no such file", ["perplexity", "--file", "no-such-text.txt"] },
        { "--context 3: must be an integer ≥ 4", ["perplexity", "--file", AnyFile, "--context", "3"] },
        { "--cache-type q4_0: must be one of f32, f16, q8_0", ["perplexity", "--file", AnyFile, "--cache-type", "q4_0"] },

        { "--steps 0: must be an integer ≥ 1", ["train", "--steps", "0"] },
        { "--batch 0: must be an integer ≥ 1", ["train", "--batch", "0"] },
        { "--seq-len -8: must be an integer ≥ 1", ["train", "--seq-len", "-8"] },
        { "--lr 0: must be a number > 0", ["train", "--lr", "0"] },
        { "--min-lr -1: must be a number ≥ 0", ["train", "--min-lr", "-1"] },
        { "--min-lr 0.01: must be at most --lr 0.001", ["train", "--lr", "0.001", "--min-lr", "0.01"] },
        { "--warmup -1: must be an integer ≥ 0", ["train", "--warmup", "-1"] },
        { "--weight-decay -0.1: must be a number ≥ 0", ["train", "--weight-decay", "-0.1"] },
        { "--clip -1: must be a number ≥ 0", ["train", "--clip", "-1"] },
        { "--seed -1: must be an integer ≥ 0", ["train", "--seed", "-1"] },
        { "--eval-interval -1: must be an integer ≥ 0", ["train", "--eval-interval", "-1"] },
        { "--eval-batches 0: must be an integer ≥ 1", ["train", "--eval-batches", "0"] },
        { "--checkpoint-interval 0: must be an integer ≥ 1", ["train", "--checkpoint-interval", "0"] },
        { "--vocab-size 267: must be an integer ≥ 268", ["train", "--vocab-size", "267"] },
        { "--size huge: must be one of tiny, draft, small, base, moe-tiny, moe-small", ["train", "--size", "huge"] },
        { "--arch glm5: must be one of glm4, glm4_moe", ["train", "--arch", "glm5"] },
        { "--mtp-weight -1: must be a number ≥ 0", ["train", "--mtp-weight", "-1"] },
        { "--bias-rate -0.5: must be a number ≥ 0", ["train", "--bias-rate", "-0.5"] },
        { "--size moe-tiny is not a glm4 size; choose one of tiny, draft, small, base", ["train", "--train", AnyFile, "--valid", AnyFile, "--size", "moe-tiny"] },
        { "--size small is not a glm4_moe size; choose one of moe-tiny, moe-small", ["train", "--train", AnyFile, "--valid", AnyFile, "--arch", "glm4_moe", "--size", "small"] },
        { "--dtype f16: must be one of f32, bf16", ["train", "--dtype", "f16"] },
        { "--train no-such-text.txt: no such file", ["train", "--train", "no-such-text.txt"] },
        { "--valid no-such-text.txt: no such file", ["train", "--valid", "no-such-text.txt"] },
        { "--tokenizer no-such-folder: no such folder", ["train", "--tokenizer", "no-such-folder"] },
        { "--init-from no-such-checkpoint.bin: no such file or folder", ["train", "--init-from", "no-such-checkpoint.bin"] },
        { "--resume needs --checkpoint-dir", ["train", "--resume"] },
        { "--mix-pretraining 1.5: must be a number in [0, 1]", ["train", "--mix-pretraining", "1.5"] },
        { "--mix-text no-such-text.txt: no such file", ["train", "--mix-text", "no-such-text.txt"] },
        { "--mix-pretraining: only with --dialogue (a plain-text run is all plain text already)",
            ["train", "--train", AnyFile, "--valid", AnyFile, "--mix-pretraining", "0.5"] },
        { "--mix-pretraining 0.01: 0.01 × 8 sequences rounds to none; give at least 0.0625",
            ["train", "--dialogue", "--train", AnyFile, "--valid", AnyFile, "--batch", "8", "--mix-pretraining", "0.01"] },

        { "--max-tokens 39: must be an integer ≥ 40", ["evaluate", "--max-tokens", "39"] },
        { "--reply-tokens 0: must be an integer ≥ 1", ["evaluate", "--reply-tokens", "0"] },
        { "--words no-such-list.txt: no such file", ["evaluate", "--words", "no-such-list.txt"] },
        { "--model no-such-model: no such file or folder", ["evaluate", "--model", "no-such-model"] },

        { "--tp 0: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--tp", "0"] },
        { "--pp -1: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--pp", "-1"] },
        { "--ep 0: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--ep", "0"] },
        { "--dp 0: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--dp", "0"] },
        { "--chips 0: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--chips", "0"] },
        { "--phase all: must be one of prefill, decode, both", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--phase", "all"] },
        { "--batch-per-chip 0: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--batch-per-chip", "0"] },
        { "--concurrency 0: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--concurrency", "0"] },
        { "--rate 0: must be a number > 0", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--rate", "0"] },
        { "--mtp-acceptance 1.5: must be a number in [0, 1]", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--mtp-acceptance", "1.5"] },
        { "--prefill-chips 0: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--prefill-chips", "0"] },
        { "--requests 0: must be an integer ≥ 1", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--requests", "0"] },
        { "--input-len: '0' must be a positive length N or a range MIN:MAX", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--input-len", "0"] },
        { "--precision: precision 'fp3' is not one of bf16, fp8, int8, fp4", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--precision", "fp3"] },
        { "--catalog no-such-catalog.json: no such file", ["plan", "predict", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--catalog", "no-such-catalog.json"] },
        { "--chips 0: must be an integer ≥ 1", ["plan", "search", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--chips", "0"] },
        { "--input-len 0: must be an integer ≥ 1", ["plan", "search", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--chips", "8", "--input-len", "0"] },
        { "--output-len -4: must be an integer ≥ 1", ["plan", "search", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--chips", "8", "--output-len", "-4"] },
        { "--mtp-acceptance -1: must be a number in [0, 1]", ["plan", "search", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--chips", "8", "--mtp-acceptance", "-1"] },
        { "--chart /no-such-folder/front.svg: folder /no-such-folder does not exist", ["plan", "search", "--hardware", "gb200-nvl72", "--model", "glm-4.7", "--chips", "8", "--chart", "/no-such-folder/front.svg"] },
        { "--threads 0: must be an integer from 1 to " + Environment.ProcessorCount, ["plan", "probe", "--threads", "0"] },
        { "--seconds 0: must be a number > 0", ["plan", "probe", "--seconds", "0"] },
        { "--write /no-such-folder/probe.json: folder /no-such-folder does not exist", ["plan", "probe", "--write", "/no-such-folder/probe.json"] },
        { "--output /no-such-folder/efficiency.json: folder /no-such-folder does not exist", ["plan", "calibrate", "--output", "/no-such-folder/efficiency.json"] },
        { "--efficiency no-such-efficiency.json: no such file", ["plan", "validate", "--efficiency", "no-such-efficiency.json"] },
        { "--catalog no-such-catalog.json: no such file", ["plan", "claims", "--catalog", "no-such-catalog.json"] },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void A_Bad_Value_Is_One_Line_Naming_The_Option_And_What_It_Allows(string expected, string[] args)
    {
        var result = GlmCli.Run([.. args.Select(WithRealPaths)]);

        Assert.Equal(1, result.ExitCode);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Equal($"error: {WithRealPaths(expected)}", result.Stderr.Trim());
    }

    [Fact]
    public void The_Edges_Of_Every_Sampling_Range_Are_Accepted()
    {
        var result = GlmCli.Run("generate", "--prompt", "The old man", "--max-tokens", "1", "--context", "8", "--temperature", "0",
            "--top-k", "0", "--top-p", "1", "--min-p", "0", "--repeat-penalty", "0.01", "--presence-penalty", "-2",
            "--frequency-penalty", "-2", "--seed", "-7", "--output", "ids");

        Assert.True(result.ExitCode == 0, result.Stderr);
        Assert.Single(result.Stdout.Trim().Split(','));
    }

    private static string WithRealPaths(string text) => text
        .Replace(AnyFile, typeof(OptionValidationCliTests).Assembly.Location)
        .Replace(AnyFolder, AppContext.BaseDirectory.TrimEnd('/'));
}
