using System.Diagnostics;
using System.Reflection;
using System.Runtime.Versioning;
using GlmSharp.Errors;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// The program that runs llama.cpp for <c>glm bench --vs-llamacpp</c>. glm ships no llama.cpp binaries, so the
/// comparison works from a clone of the repository: the tool's project is found above the working directory or glm's
/// own folder, and built with the .NET SDK the first time and whenever its sources are newer than the last build.
/// </summary>
internal sealed class LlamaCppBenchTool
{
    public const string Project = "bench/GlmSharp.LlamaCppBench/GlmSharp.LlamaCppBench.csproj";

    /// <summary>
    /// What the tool is built from, relative to the repository: its folder, the engine library it references and the
    /// run protocols it compiles in, and the build settings of every project.
    /// </summary>
    private static readonly string[] Sources =
    [
        "bench/GlmSharp.LlamaCppBench", "src/GlmSharp", "src/GlmSharp.Cli/Commands/Bench/RunProtocol.cs",
        "src/GlmSharp.Cli/Commands/Bench/VisionRunProtocol.cs", "Directory.Build.props", "Directory.Packages.props",
    ];

    private readonly string _root;

    private LlamaCppBenchTool(string root) => _root = root;

    private string ProjectFolder => Path.Combine(_root, Path.GetDirectoryName(Project)!);

    /// <summary>The tool targets glm's framework (both take it from Directory.Build.props), e.g. net10.0.</summary>
    private string Assembly
    {
        get
        {
            string framework = typeof(LlamaCppBenchTool).Assembly.GetCustomAttribute<TargetFrameworkAttribute>()!.FrameworkName;
            string version = framework[(framework.LastIndexOf('v') + 1)..];
            return Path.Combine(ProjectFolder, "bin", "Release", $"net{version}", "GlmSharp.LlamaCppBench.dll");
        }
    }

    /// <summary>Written after each build glm made: a build that changes nothing leaves the assembly's time as it was.</summary>
    private string BuildStamp => Path.Combine(ProjectFolder, "obj", "glm-build.stamp");

    /// <summary>The tool in the first repository found above one of <paramref name="startFolders"/>, built if it is missing or stale.</summary>
    public static LlamaCppBenchTool Prepare(params string[] startFolders)
    {
        startFolders = [.. startFolders.Select(f => Path.TrimEndingDirectorySeparator(Path.GetFullPath(f))).Distinct()];
        string root = startFolders.Select(FindRepository).FirstOrDefault(r => r is not null)
            ?? throw new GlmException($"--vs-llamacpp runs the llama.cpp bench tool {Project}, found in no folder above " +
                $"{string.Join(" or ", startFolders)}; run glm from a clone of the GlmSharp repository");
        var tool = new LlamaCppBenchTool(root);
        if (tool.IsStale()) tool.BuildUnlessAnotherGlmDid();
        return tool;
    }

    /// <summary>Two benchmarks (or test classes) starting at once would otherwise build into the same folders together.</summary>
    private void BuildUnlessAnotherGlmDid()
    {
        using var mutex = new Mutex(false, @"Global\GlmSharp.LlamaCppBench.build");
        try
        {
            mutex.WaitOne();
        }
        catch (AbandonedMutexException)
        {
            // A glm that died while building left the mutex to us; the staleness check below still holds.
        }
        try
        {
            if (IsStale()) Build();
        }
        finally
        {
            mutex.ReleaseMutex();
        }
    }

    private static string? FindRepository(string start)
    {
        for (var folder = new DirectoryInfo(start); folder is not null; folder = folder.Parent)
            if (File.Exists(Path.Combine(folder.FullName, Project))) return folder.FullName;
        return null;
    }

    private bool IsStale()
    {
        if (!File.Exists(Assembly)) return true;
        var built = new[] { File.GetLastWriteTimeUtc(Assembly), File.Exists(BuildStamp) ? File.GetLastWriteTimeUtc(BuildStamp) : DateTime.MinValue }.Max();
        return Sources.Select(s => Path.Combine(_root, s)).SelectMany(SourceFiles).Any(f => File.GetLastWriteTimeUtc(f) > built);
    }

    private static IEnumerable<string> SourceFiles(string path)
    {
        if (File.Exists(path)) return [path];
        if (!Directory.Exists(path)) return [];
        char separator = Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(path, "*", SearchOption.AllDirectories)
            .Where(f => Path.GetExtension(f) is ".cs" or ".csproj" or ".props")
            .Where(f => !f.Contains($"{separator}bin{separator}") && !f.Contains($"{separator}obj{separator}"));
    }

    private void Build()
    {
        Console.Error.WriteLine($"building {Project} (first use, or its sources changed)");
        // No compiler or MSBuild server may stay behind to share the CPU with the timed runs.
        var start = Dotnet("build", Path.Combine(_root, Project), "-c", "Release", "--nologo", "-v", "quiet", "--disable-build-servers");
        var (exitCode, output, _) = ChildProcess.Run(start, $"build {Project}");
        if (exitCode != 0)
        {
            string firstError = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains(": error ", StringComparison.Ordinal)) ?? "";
            throw new GlmException($"building {Project} failed (dotnet build exit {exitCode}) {firstError}".TrimEnd());
        }
        File.WriteAllText(BuildStamp, "");
    }

    /// <summary>How to start one llama.cpp run of <paramref name="model"/>.</summary>
    public ProcessStartInfo RunStart(string model, RunSettings run) => Dotnet([Assembly, "--model", model, .. run.Arguments]);

    /// <summary>How to start one libmtmd image encode with <paramref name="mmproj"/> (and the text model mtmd initialises from).</summary>
    public ProcessStartInfo VisionRunStart(string mmproj, string textModel, VisionRunSettings run) =>
        Dotnet([Assembly, "vision", "--mmproj", mmproj, "--text-model", textModel, .. run.Arguments]);

    /// <summary>Requantizes <paramref name="source"/> into <paramref name="destination"/> with llama.cpp's quantizer.</summary>
    public void Quantize(string source, string destination, string llamaFileType, int threads)
    {
        var (exitCode, _, stderr) = ChildProcess.Run(
            Dotnet(Assembly, "quantize", "--in", source, "--out", destination, "--ftype", llamaFileType, "--threads", $"{threads}"), "llama.cpp quantize");
        if (exitCode != 0)
        {
            string reason = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Trim() ?? "";
            throw new GlmException($"llama.cpp's quantizer failed (exit {exitCode}) {reason}".TrimEnd());
        }
    }

    private static ProcessStartInfo Dotnet(params string[] arguments)
    {
        var start = new ProcessStartInfo("dotnet");
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        return start;
    }
}
