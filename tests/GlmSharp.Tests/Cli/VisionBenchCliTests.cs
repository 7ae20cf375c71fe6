using System.Text.Json;
using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Configs;
using GlmSharp.Formats.Gguf;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;
using GlmSharp.Tests.Vision;
using GlmSharp.Vision;

namespace GlmSharp.Tests.Cli;

/// <summary>`glm bench --vision`: GlmSharp's glm4v tower against libmtmd's encode at one patch count, and its option checks.</summary>
public sealed class VisionBenchCliTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly Glm4vVisionConfig Tiny = new()
    {
        Depth = 2, HiddenSize = 64, NumHeads = 2, PatchSize = 14, ImageSize = 56, OutHiddenSize = 64, IntermediateSize = 96,
    };

    /// <summary>
    /// Both engines encode each size once, at the patch grid mtmd's sizing gives: 100×60 rounds to a 112×56 canvas of
    /// 4 × 2 tokens, fewer than mtmd's minimum of 8, so both scale it up; 2240×1568 is 80 × 56 = 4,480 tokens, more than
    /// mtmd's default cap of 4,096, which the benchmark raises so that neither engine shrinks it. The report's ratio is
    /// llama.cpp's time over ours, and the GFLOP/s follow from the formula and the times.
    /// </summary>
    [Fact]
    public void Both_Engines_Encode_Every_Size_At_The_Same_Patch_Count_And_The_Report_Has_Times_Ratios_And_Gflops()
    {
        string mmproj = new RandomGlm4vVision(Tiny, seed: 3).WriteMmproj(_dir.File("tiny-mmproj.gguf"), GgmlType.F16);

        var result = GlmCli.Run("bench", "--vision", "--mmproj", mmproj, "--image-size", "100x60,2240x1568", "--threads", "1", "--runs", "1", "--vs-llamacpp", "--json");

        Assert.True(result.ExitCode == 0, result.Stderr);
        using var report = JsonDocument.Parse(result.Stdout);
        var root = report.RootElement;
        Assert.Equal(2, root.GetProperty("blocks").GetInt32());
        var images = root.GetProperty("images").EnumerateArray().ToArray();
        Assert.Equal(["100x60", "2240x1568"], images.Select(i => i.GetProperty("image").GetString()));
        var factor = Tiny.PatchSize * Tiny.SpatialMergeSize;
        foreach (var (image, (height, width)) in images.Zip(new[] { (100, 60), (2240, 1568) }.Select(s => (s.Item2, s.Item1))))
        {
            var canvas = LlamaCppImageSizing.Resize(height, width, factor, LlamaCppImageSizing.DefaultMinTokens * factor * factor, int.MaxValue);
            int tokens = canvas.Height / factor * (canvas.Width / factor);
            Assert.Equal(tokens, image.GetProperty("tokens").GetInt32());
            Assert.Equal(tokens * 4, image.GetProperty("patches").GetInt32());
            Assert.Equal($"{canvas.Width}x{canvas.Height}", image.GetProperty("canvas").GetString());
            double ours = image.GetProperty("glmsharp").GetProperty("encode_ms").GetDouble(), llama = image.GetProperty("llamacpp").GetProperty("encode_ms").GetDouble();
            Assert.True(ours > 0 && llama > 0, $"{ours} ms, {llama} ms");
            Assert.Equal(llama / ours, image.GetProperty("ratio").GetDouble(), 6);
            double gflop = VisionFlops.Of(Tiny, tokens * 4) / 1e9;
            Assert.Equal(gflop, image.GetProperty("gflop").GetDouble(), 9);
            Assert.Equal(gflop / (ours / 1000), image.GetProperty("glmsharp").GetProperty("gflop_s").GetDouble(), 6);
        }
    }

    /// <summary>
    /// The random mmproj is one GlmSharp loads as the config it was written from; rows that do not fill a Q8_0 block (the
    /// patch kernel's, one patch wide) stay F16, norms and the position table F32.
    /// </summary>
    [Fact]
    public void The_Random_Mmproj_Loads_As_Written_With_Unblockable_Rows_In_F16()
    {
        var config = Tiny with { HiddenSize = 64, OutHiddenSize = 64, IntermediateSize = 128 };
        string path = _dir.File("random.gguf");
        SyntheticVision.WriteMmproj(config, GgmlType.Q8_0, path);

        using (var file = GgufFile.Open(path))
        {
            Assert.Equal(GgmlType.F16, file.GetTensor("v.patch_embd.weight").Type);
            Assert.Equal(GgmlType.Q8_0, file.GetTensor("v.blk.1.attn_qkv.weight").Type);
            Assert.Equal(GgmlType.F32, file.GetTensor("v.position_embd.weight").Type);
            Assert.Equal(GgmlType.F32, file.GetTensor("v.blk.0.ln1.weight").Type);
        }
        using var tower = Glm4vVisionTower.FromMmproj(path);
        // The file holds eps as float32, so it reads back as float32's nearest value.
        Assert.Equal(config with { RmsNormEps = (float)config.RmsNormEps }, tower.Config);
    }

    [Fact]
    public void The_Flop_Count_Of_One_Block_Is_Its_Matrices_And_Its_Attention()
    {
        var oneBlock = Tiny with { Depth = 1 };
        var twoBlocks = Tiny with { Depth = 2 };
        long n = 64;
        double d = Tiny.HiddenSize, f = Tiny.OutHiddenSize;
        Assert.Equal(2 * n * (3 * d * d + d * d + 3 * d * f) + 4 * n * n * d, VisionFlops.Of(twoBlocks, n) - VisionFlops.Of(oneBlock, n), 3);
    }

    /// <summary>Every option out of place is one line naming it, before any file is written or run.</summary>
    [Theory]
    [InlineData("--vision", "--vision needs --image-size")]
    [InlineData("--vision --image-size 12x", "--image-size 12x: expected WIDTHxHEIGHT")]
    [InlineData("--vision --image-size 448x0", "--image-size 448x0: expected WIDTHxHEIGHT")]
    [InlineData("--vision --image-size 100000x100000", "--image-size 100000x100000: more than")]
    [InlineData("--vision --image-size 448x448 --vision-blocks 0", "--vision-blocks 0: GLM-4.1V's tower has 1 to 24 blocks")]
    [InlineData("--vision --image-size 448x448 --vision-blocks 25", "--vision-blocks 25")]
    [InlineData("--vision --image-size 448x448 --type q4_k", "--type q4_k: a synthetic mmproj is written as one of f32, f16, q8_0")]
    [InlineData("--vision --image-size 448x448 --runs 0", "--runs 0")]
    [InlineData("--vision --image-size 448x448 --prompt 8", "--prompt is an option of the text benchmark")]
    [InlineData("--vision --image-size 448x448 --model M", "--model is an option of the text benchmark")]
    [InlineData("--vision --image-size 448x448 --mmproj M", "M: mmproj file not found")]
    [InlineData("--vision --image-size 448x448 --mmproj M --vision-blocks 2", "--vision-blocks shortens the random mmproj")]
    [InlineData("--vision --image-size 448x448 --mmproj M --type f16", "--type is the matrix type of the random mmproj")]
    [InlineData("--vision --image-size 448x448 --engine llamacpp", "--engine llamacpp")]
    [InlineData("--image-size 448x448 --model M", "--image-size applies to --vision runs")]
    [InlineData("--vision-blocks 2 --model M", "--vision-blocks applies to --vision runs")]
    public void A_Bad_Option_Is_One_Line_Naming_It_And_Exit_Code_1(string arguments, string named)
    {
        string missing = _dir.File("missing.gguf");
        var result = GlmCli.Run(["bench", .. arguments.Split(' ').Select(a => a == "M" ? missing : a)]);

        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.Contains(named.Replace("M: ", missing + ": "), result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }
}
