using System.Globalization;
using GlmSharp.Fuzz;

// glm-fuzz: mutational fuzzing of every input GlmSharp reads.
//   fuzz [--inputs N] [--seconds S] [--workers W] [--seed S] [--targets a,b] [--findings DIR] [--timeout S]
//   worker --corpus DIR --target T --seed S --first N --count C        (started by fuzz)
//   replay --target T --seed S --index I                               (one input in this process)
var options = Options.Parse(args.Skip(1).ToArray());
switch (args.FirstOrDefault())
{
    case "worker":
        return Worker.Run(options.Text("corpus"), Target.Named(options.Text("target")), options.Int("seed", 1), options.Long("first", 0), options.Long("count", 1));
    case "replay":
        {
            using var corpus = new TempCorpus();
            var target = Target.Named(options.Text("target"));
            return Worker.Run(corpus.Path, target, options.Int("seed", 1), options.Long("index", 0), 1);
        }
    case "fuzz":
        {
            using var corpus = new TempCorpus();
            var targets = options.Has("targets") ? options.Text("targets").Split(',').Select(Target.Named).ToArray() : Target.All.ToArray();
            long total = options.Long("inputs", long.MaxValue / 2);
            double seconds = options.Long("seconds", 0);
            var deadline = seconds > 0 ? DateTime.UtcNow.AddSeconds(seconds) : DateTime.MaxValue.AddDays(-1);
            var supervisor = new Supervisor(corpus.Path, options.Has("findings") ? options.Text("findings") : "fuzz-findings", options.Int("seed", 1),
                targets, options.Int("workers", Environment.ProcessorCount), TimeSpan.FromSeconds(options.Long("timeout", 20)));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            supervisor.Run(Math.Max(1, total / targets.Length), deadline, chunk: seconds > 0 && seconds < 600 ? 100 : 5000);
            Console.WriteLine($"{supervisor.Inputs} inputs in {clock.Elapsed.TotalSeconds:0} s: {supervisor.Untyped} untyped exceptions, {supervisor.Crashes} crashes, {supervisor.Hangs} hangs");
            foreach (var (key, n) in supervisor.Counts.OrderBy(c => c.Key)) Console.WriteLine($"  {key}: {n}");
            foreach (var (signature, (target, index)) in supervisor.Signatures) Console.WriteLine($"  finding {target.Name} #{index}: {signature}");
            return supervisor.Untyped + supervisor.Crashes + supervisor.Hangs == 0 ? 0 : 1;
        }
    default:
        Console.Error.WriteLine("usage: glm-fuzz fuzz|worker|replay [options]; see Program.cs");
        return 2;
}

internal sealed class Options(Dictionary<string, string> values)
{
    public static Options Parse(string[] args)
    {
        var values = new Dictionary<string, string>();
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal)) throw new ArgumentException($"expected an option, found '{args[i]}'");
            values[args[i][2..]] = args[i + 1];
        }
        return new Options(values);
    }

    public bool Has(string key) => values.ContainsKey(key);
    public string Text(string key) => values.TryGetValue(key, out var v) ? v : throw new ArgumentException($"--{key} is required");
    public long Long(string key, long fallback) => values.TryGetValue(key, out var v) ? long.Parse(v, CultureInfo.InvariantCulture) : fallback;
    public int Int(string key, int fallback) => checked((int)Long(key, fallback));
}

/// <summary>The seed corpus, written to a temporary folder for one run.</summary>
internal sealed class TempCorpus : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"glmsharp-fuzz-corpus-{Environment.ProcessId}");

    public TempCorpus()
    {
        Directory.CreateDirectory(Path);
        SeedCorpus.Write(Path);
    }

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
