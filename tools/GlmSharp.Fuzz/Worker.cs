using GlmSharp.Errors;

namespace GlmSharp.Fuzz;

/// <summary>
/// Runs inputs [first, first + count) of one target in this process and reports each on stdout before and after it
/// runs, so that the supervisor can tell which input a crash or a hang belongs to.
/// </summary>
internal static class Worker
{
    public static int Run(string corpus, Target target, int seed, long first, long count)
    {
        string work = Path.Combine(Path.GetTempPath(), $"glmsharp-fuzz-{Environment.ProcessId}");
        CopyDirectory(corpus, work);
        var seedBytes = File.ReadAllBytes(Path.Combine(corpus, target.File));
        long structured = Safetensors.StructuredBytes(Path.Combine(corpus, target.File));
        string modelPath = Path.Combine(work, target.LoadPath);
        var output = Console.Out;
        using var served = target.Endpoint is null ? null : new ServedModel(modelPath);
        try
        {
            for (long i = first; i < first + count; i++)
            {
                byte[] mutant;
                try
                {
                    mutant = Mutator.Mutate(seedBytes, target.Kind, structured, Mutator.RandomFor(seed, target, i));
                }
                catch (Exception e)
                {
                    output.WriteLine($"mutator {i} {Finding.Signature(e)}");
                    output.Flush();
                    continue;
                }
                string chat = SeedCorpus.ChatMessage;
                if (target.Kind == InputKind.ChatText) chat = Pipeline.ChatText(mutant);
                else if (served is null) File.WriteAllBytes(Path.Combine(work, target.File), mutant);
                output.WriteLine($"run {i}");
                output.Flush();
                output.WriteLine(served is null ? Outcome(modelPath, chat, i) : served.Outcome(target.Endpoint!, mutant, i));
                output.Flush();
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
        return 0;
    }

    private static string Outcome(string modelPath, string chat, long i)
    {
        try
        {
            Pipeline.Run(modelPath, chat);
            return $"ok {i}";
        }
        catch (GlmException)
        {
            return $"typed {i}";
        }
        catch (Exception e)
        {
            return $"untyped {i} {Finding.Signature(e)}";
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        foreach (var dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)), overwrite: true);
    }
}
