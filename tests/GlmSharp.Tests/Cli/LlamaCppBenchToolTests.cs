using System.Text.Json;
using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Errors;
using GlmSharp.Formats.Gguf;
using GlmSharp.Kernels;
using GlmSharp.Models;
using GlmSharp.Tensors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>
/// The llama.cpp side of `glm bench` lives in bench/GlmSharp.LlamaCppBench: glm finds it in the repository, builds it
/// when it is missing or older than its sources, and runs it once per llama.cpp run.
/// </summary>
public sealed class LlamaCppBenchToolTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>What glm's references bring along is what a user of it installs: no llama.cpp, no plotting in the planner.</summary>
    [Fact]
    public void Glm_Depends_On_No_LlamaSharp_And_The_Planner_On_No_Plotting_Library()
    {
        using var deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "glm.deps.json")));
        var libraries = deps.RootElement.GetProperty("targets").EnumerateObject().Single().Value;
        var glm = libraries.EnumerateObject().Single(l => l.Name.StartsWith("glm/", StringComparison.Ordinal));
        Assert.DoesNotContain(Closure(libraries, glm.Name), name => name.StartsWith("LLamaSharp", StringComparison.OrdinalIgnoreCase));
        var planner = libraries.EnumerateObject().Single(l => l.Name.StartsWith("GlmSharp.Planner/", StringComparison.Ordinal));
        Assert.Equal(["GlmSharp", "System.Numerics.Tensors"], Closure(libraries, planner.Name).Select(n => n[..n.IndexOf('/')]).Order());
    }

    /// <summary>Every library <paramref name="library"/> pulls in, directly or not, as "name/version".</summary>
    private static HashSet<string> Closure(JsonElement libraries, string library)
    {
        var found = new HashSet<string>();
        var pending = new Stack<string>([library]);
        while (pending.TryPop(out var name))
        {
            if (!libraries.TryGetProperty(name, out var entry) || !entry.TryGetProperty("dependencies", out var dependencies)) continue;
            foreach (var dependency in dependencies.EnumerateObject())
                if (found.Add($"{dependency.Name}/{dependency.Value.GetString()}")) pending.Push($"{dependency.Name}/{dependency.Value.GetString()}");
        }
        return found;
    }

    [Fact]
    public void The_Tool_Decodes_Several_Sequences_Together_And_Reports_Aggregate_Speeds()
    {
        string gguf = TinyGguf();
        var tool = LlamaCppBenchTool.Prepare(AppContext.BaseDirectory);

        var (exitCode, stdout, stderr) = ChildProcess.Run(tool.RunStart(gguf, new RunSettings(1, 8, 4, 3, KvCacheType.F16)), "run the tool");

        Assert.True(exitCode == 0, stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault());
        var result = JsonSerializer.Deserialize<EngineResult>(stdout.Trim().Split('\n')[^1])!;
        Assert.True(result.PrefillTokS > 0 && result.DecodeTokS > 0 && result.LoadS > 0 && result.PeakRssMb > 0, $"{result}");
    }

    /// <summary>Three decodes after one prefill, the cache cut back between them: each round's speed, and their median as the run's.</summary>
    [Fact]
    public void The_Tool_Repeats_The_Decode_After_One_Prefill()
    {
        var tool = LlamaCppBenchTool.Prepare(AppContext.BaseDirectory);

        var (exitCode, stdout, stderr) = ChildProcess.Run(tool.RunStart(TinyGguf(), new RunSettings(1, 8, 4, 2, KvCacheType.F16) { DecodeRepeats = 3 }), "run the tool");

        Assert.True(exitCode == 0, stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault());
        var result = JsonSerializer.Deserialize<EngineResult>(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal(3, result.DecodeSamplesTokS!.Length);
        Assert.All(result.DecodeSamplesTokS, speed => Assert.True(speed > 0));
        Assert.Equal(result.DecodeSamplesTokS.Order().ElementAt(1), result.DecodeTokS);
    }

    [Theory]
    [InlineData(0, "f16", "--parallel 0: must be at least 1")]
    [InlineData(2, "q4", "--cache-type q4: must be one of")]
    public void The_Tool_Refuses_Bad_Settings_In_One_Line(int parallel, string cacheType, string message)
    {
        var tool = LlamaCppBenchTool.Prepare(AppContext.BaseDirectory);
        var start = tool.RunStart(TinyGguf(), new RunSettings(1, 8, 4, parallel, KvCacheType.F16));
        start.ArgumentList[start.ArgumentList.IndexOf("--cache-type") + 1] = cacheType;

        var (exitCode, _, stderr) = ChildProcess.Run(start, "run the tool");

        Assert.Equal(1, exitCode);
        Assert.Equal($"error: {message}", stderr.Trim()[..(message.Length + 7)]);
        Assert.Single(stderr.Trim().Split('\n'));
    }

    /// <summary>
    /// The types only llama.cpp writes come from its own quantizer: a Q8_0 model of 256-wide rows requantized to
    /// MOSTLY_IQ4_XS holds IQ4_XS matrices (and llama.cpp's choices elsewhere, never Q8_0 left over from the source).
    /// </summary>
    [Fact]
    public void The_Tool_Requantizes_A_Model_Into_A_LlamaCpp_Mix()
    {
        var spec = new TinyGlmSpec("glm4", 160, 256, 2, 4, 2, 64, 512, 0.5, Bias: true, Tied: false);
        string source = new RandomGlmCheckpoint(spec, seed: 7).WriteGguf(_dir.File("source.gguf"), GgmlType.Q8_0);
        string target = _dir.File("iq4_xs.gguf");

        LlamaCppBenchTool.Prepare(AppContext.BaseDirectory).Quantize(source, target, "MOSTLY_IQ4_XS", threads: 1);

        using var file = GgufFile.Open(target);
        var matrices = file.Tensors.Where(t => t.Ne.Length == 2 && t.Name != "token_embd.weight").Select(t => t.Type).ToArray();
        Assert.Contains(GgmlType.IQ4_XS, matrices);
        Assert.DoesNotContain(GgmlType.Q8_0, matrices);
    }

    [Fact]
    public void A_Quantizer_Failure_Is_One_Error_Naming_The_File_Type()
    {
        string source = TinyGguf();
        var error = Assert.Throws<GlmException>(() =>
            LlamaCppBenchTool.Prepare(AppContext.BaseDirectory).Quantize(source, _dir.File("out.gguf"), "MOSTLY_Q9_9", threads: 1));
        Assert.Contains("MOSTLY_Q9_9", error.Message);
    }

    [Theory]
    [InlineData("iq4_xs", "MOSTLY_IQ4_XS")]
    [InlineData("IQ3_M", "MOSTLY_IQ3_M")]
    [InlineData("q4_k_m", null)]
    public void Synthetic_Types_Only_LlamaCpp_Writes_Are_Written_As_Q8_0_First(string name, string? llamaFileType)
    {
        var type = SyntheticType.Parse(name);
        Assert.Equal(llamaFileType, type.LlamaCppFileType);
        Assert.Equal(llamaFileType is null ? QuantizationScheme.Q4_K_M.Name : "q8_0", type.Written.Name);
    }

    /// <summary>A project file that is not XML fails to build at once, so any build attempt shows.</summary>
    [Fact]
    public void A_Tool_Newer_Than_Its_Sources_Is_Used_As_It_Is_And_One_Older_Than_A_Source_Is_Rebuilt()
    {
        string project = BrokenToolProject(_dir.Path);
        string assembly = Path.Combine(Path.GetDirectoryName(project)!, "bin", "Release", "net10.0", "GlmSharp.LlamaCppBench.dll");
        Directory.CreateDirectory(Path.GetDirectoryName(assembly)!);
        File.WriteAllText(assembly, "");
        var sourcesTime = DateTime.UtcNow.AddHours(-2);
        File.SetLastWriteTimeUtc(project, sourcesTime);
        File.SetLastWriteTimeUtc(assembly, sourcesTime.AddHours(1));

        LlamaCppBenchTool.Prepare(_dir.Path);

        File.SetLastWriteTimeUtc(project, sourcesTime.AddHours(2));
        var error = Assert.Throws<GlmException>(() => LlamaCppBenchTool.Prepare(_dir.Path));
        Assert.StartsWith($"building {LlamaCppBenchTool.Project} failed", error.Message);
    }

    [Fact]
    public void A_Tool_That_Fails_To_Build_Is_One_Error_Line_And_Exit_Code_1()
    {
        BrokenToolProject(_dir.Path);

        var result = GlmCli.RunFrom(AppContext.BaseDirectory, _dir.Path, "", "bench", "--model", TinyGguf(), "--runs", "1", "--vs-llamacpp");

        Assert.Equal(1, result.ExitCode);
        string error = result.Stderr.Trim().Split('\n')[^1];
        Assert.StartsWith($"error: building {LlamaCppBenchTool.Project} failed", error);
        Assert.Contains("MSB4025", error);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    /// <summary>glm copied out of the repository (its managed assemblies only) has no tool to find.</summary>
    [Fact]
    public void Outside_A_Clone_Vs_LlamaCpp_Is_One_Error_Line_Naming_The_Tool_And_Exit_Code_1()
    {
        string copy = Directory.CreateDirectory(_dir.File("glm")).FullName;
        foreach (var file in Directory.EnumerateFiles(AppContext.BaseDirectory, "*.dll").Append(Path.Combine(AppContext.BaseDirectory, "glm.runtimeconfig.json")))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));

        var result = GlmCli.RunFrom(copy, _dir.Path, "", "bench", "--model", TinyGguf(), "--runs", "1", "--vs-llamacpp");

        Assert.Equal(1, result.ExitCode);
        Assert.Single(result.Stderr.Trim().Split('\n'));
        Assert.StartsWith("error: ", result.Stderr);
        Assert.Contains(LlamaCppBenchTool.Project, result.Stderr);
        Assert.Contains("clone", result.Stderr);
    }

    private string TinyGguf()
    {
        var spec = new TinyGlmSpec("glm4", 160, 64, 2, 4, 2, 16, 96, 0.5, Bias: true, Tied: false);
        string path = _dir.File("model.gguf");
        return File.Exists(path) ? path : new RandomGlmCheckpoint(spec, seed: 5).WriteGguf(path, GgmlType.Q8_0);
    }

    private static string BrokenToolProject(string root)
    {
        string project = Path.Combine(root, LlamaCppBenchTool.Project);
        Directory.CreateDirectory(Path.GetDirectoryName(project)!);
        File.WriteAllText(project, "<Project");
        return project;
    }
}
