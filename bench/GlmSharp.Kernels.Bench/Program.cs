using System.CommandLine;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Bench;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Tensors;

var type = new Option<GgmlType>("--type") { Description = "Weight type (F32, F16, BF16, Q8_0, Q4_0, …)", DefaultValueFactory = _ => GgmlType.Q8_0 };
var outputs = new Option<int>("--out") { Description = "Weight rows (output features)", DefaultValueFactory = _ => 12288 };
var inputs = new Option<int>("--in") { Description = "Weight columns (input features)", DefaultValueFactory = _ => 2048 };
var tokens = new Option<int>("--tokens") { Description = "Activation rows: 1 is decode, more is prefill", DefaultValueFactory = _ => 1 };
var threads = new Option<int>("--threads") { Description = "Compute threads, the caller included", DefaultValueFactory = _ => 1 };
var path = new Option<string>("--path") { Description = "Kernel path ISA[/INT8], e.g. Avx512 or Avx512/Avx512BW", DefaultValueFactory = _ => "Avx512" };
var ab = new Option<string?>("--ab") { Description = "Two kernel paths A,B timed alternately in this process; prints both and B/A" };
var rounds = new Option<int>("--rounds") { Description = "Samples per path; the median is reported", DefaultValueFactory = _ => 7 };
var inCache = new Option<bool>("--in-cache") { Description = "Reuse one copy of the weights (kept in cache if small) instead of streaming copies from memory" };
var sampleMs = new Option<int>("--sample-ms") { Description = "Length of one sample", DefaultValueFactory = _ => 300 };

var root = new RootCommand("Times CpuBackend.MatMul for one weight type and shape on chosen kernel paths")
{
    type, outputs, inputs, tokens, threads, path, ab, rounds, sampleMs, inCache,
};
root.SetAction(parse =>
{
    var paths = (parse.GetValue(ab) ?? parse.GetValue(path)!).Split(',').Select(KernelPath.Parse).ToArray();
    if (paths.Length > 2) throw new ArgumentException("--ab takes two kernel paths");
    int n = parse.GetValue(tokens);
    using var weights = new BenchWeights(parse.GetValue(type), parse.GetValue(outputs), parse.GetValue(inputs), parse.GetValue(inCache));
    var timer = new MatMulTimer(weights, n, TimeSpan.FromMilliseconds(parse.GetValue(sampleMs)));
    var report = new BenchReport(parse.GetValue(type), parse.GetValue(outputs), parse.GetValue(inputs), n, parse.GetValue(threads), weights.BytesPerCopy);
    var backends = paths.Select(p => p.CreateBackend(parse.GetValue(threads))).ToArray();
    var copies = paths.Select((p, i) => weights.For(backends[i], p.Stored)).ToArray();
    var samples = paths.Select(_ => new List<double>()).ToArray();
    for (int round = 0; round < parse.GetValue(rounds); round++)
        for (int i = 0; i < paths.Length; i++)
        {
            // Alternate which path goes first, so neither always follows the other's cache state.
            int p = round % 2 == 0 ? i : paths.Length - 1 - i;
            samples[p].Add(timer.SecondsPerCall(backends[p], copies[p]));
        }
    foreach (var backend in backends) backend.Dispose();
    report.Print(paths, samples);
});
root.Subcommands.Add(DsaCommand());
root.Subcommands.Add(VisionAttentionCommand());
return root.Parse(args).Invoke();

static Command DsaCommand()
{
    var depths = new Option<string>("--depth") { Description = "Cached positions, comma-separated", DefaultValueFactory = _ => "4096,16384,65536" };
    var threads = new Option<int>("--threads") { Description = "Compute threads, the caller included", DefaultValueFactory = _ => 2 };
    var heads = new Option<int>("--heads") { Description = "Query heads over the shared latent (GLM-5: 64, GLM-4.7-Flash: 20)", DefaultValueFactory = _ => DsaDecodeTimer.Glm5Heads };
    var cacheType = new Option<KvCacheType>("--cache-type") { Description = "Element type of the latent cache (F32, F16, Q8_0)", DefaultValueFactory = _ => KvCacheType.F16 };
    var rounds = new Option<int>("--rounds") { Description = "Samples per measurement; the median and the fastest are reported", DefaultValueFactory = _ => 5 };
    var sampleMs = new Option<int>("--sample-ms") { Description = "Length of one sample", DefaultValueFactory = _ => 300 };
    var processorTime = new Option<bool>("--cpu-time") { Description = "Processor time per call instead of elapsed (with --threads 1: a kernel's cost on a busy machine)" };
    var prefill = new Option<int>("--prefill") { Description = "Also time the indexer (F16 keys) for this many rows of one sequence ending at each depth, a prefill step; 0: not" };
    var command = new Command("dsa", $"Times one decode row of one GLM-5 layer's attention and indexer over a context of each depth (top-k {DsaDecodeTimer.TopK})")
    {
        depths, threads, heads, cacheType, rounds, sampleMs, processorTime, prefill,
    };
    command.SetAction(parse =>
    {
        using var backend = new CpuBackend(parse.GetValue(threads));
        var sample = TimeSpan.FromMilliseconds(parse.GetValue(sampleMs));
        Console.WriteLine($"{backend.Name}, {parse.GetValue(heads)} heads, {parse.GetValue(cacheType)} latents; {(parse.GetValue(processorTime) ? "processor" : "elapsed")} milliseconds per decode row, median/fastest of {parse.GetValue(rounds)}");
        Console.WriteLine($"{"depth",8} {"dense attention",16} {"sparse attention",17} {"indexer f16 keys",17} {"indexer q8_0 keys",18}");
        foreach (int depth in parse.GetValue(depths)!.Split(',').Select(int.Parse))
        {
            using var timer = new DsaDecodeTimer(backend, depth, parse.GetValue(heads), parse.GetValue(cacheType), sample, parse.GetValue(processorTime));
            // On a shared machine the median says what a run meets and the fastest sample what the kernel costs undisturbed.
            string MedianAndFastest(Func<double> measure)
            {
                var samples = Enumerable.Range(0, parse.GetValue(rounds)).Select(_ => measure() * 1e3).Order().ToArray();
                return $"{samples[samples.Length / 2]:F3}/{samples[0]:F3}";
            }
            Console.WriteLine($"{depth,8} {MedianAndFastest(timer.DenseAttention),16} {MedianAndFastest(timer.SparseAttention),17} " +
                $"{MedianAndFastest(() => timer.Indexer(KvCacheType.F16)),17} {MedianAndFastest(() => timer.Indexer(KvCacheType.Q8_0)),18}");
            int prefillRows = parse.GetValue(prefill);
            if (prefillRows > 0)
            {
                double operations = 0;
                var seconds = Enumerable.Range(0, parse.GetValue(rounds)).Select(_ => timer.IndexerPrefill(prefillRows, out operations)).Order().ToArray();
                Console.WriteLine($"{"",8} indexer prefill of {prefillRows} rows, f16 keys: {seconds[seconds.Length / 2] * 1e3:F1}/{seconds[0] * 1e3:F1} ms, " +
                    $"{operations / seconds[seconds.Length / 2] / 1e9:F1}/{operations / seconds[0] / 1e9:F1} GFLOP/s (scoring's multiply-adds)");
            }
        }
    });
    return command;
}

static Command VisionAttentionCommand()
{
    var tokens = new Option<int>("--tokens") { Description = "Patches of the image (4K: 42196, 1024×1024: 5476)", DefaultValueFactory = _ => 5476 };
    var heads = new Option<int>("--heads") { Description = "Attention heads (GLM-4.1V's tower: 12)", DefaultValueFactory = _ => 1 };
    var headDim = new Option<int>("--head-dim") { Description = "Width of one head (GLM-4.1V's tower: 128)", DefaultValueFactory = _ => 128 };
    var threads = new Option<int>("--threads") { Description = "Compute threads, the caller included", DefaultValueFactory = _ => 2 };
    var path = new Option<string>("--path") { Description = "Kernel path ISA, e.g. Avx2", DefaultValueFactory = _ => CpuIsaSupport.Best.ToString() };
    var rounds = new Option<int>("--rounds") { Description = "Calls timed; the median and the fastest are reported", DefaultValueFactory = _ => 3 };
    var command = new Command("vision-attention", "Times the vision tower's attention (every patch against every patch) for one image")
    {
        tokens, heads, headDim, threads, path, rounds,
    };
    command.SetAction(parse =>
    {
        using var backend = KernelPath.Parse(parse.GetValue(path)!).CreateBackend(parse.GetValue(threads));
        using var timer = new VisionAttentionTimer(backend, parse.GetValue(tokens), parse.GetValue(heads), parse.GetValue(headDim));
        var samples = Enumerable.Range(0, parse.GetValue(rounds)).Select(_ => timer.SecondsPerCall()).Order().ToArray();
        double median = samples[samples.Length / 2];
        Console.WriteLine($"{backend.Name}: {parse.GetValue(tokens)} patches × {parse.GetValue(heads)} heads of {parse.GetValue(headDim)}, " +
            $"{parse.GetValue(threads)} threads: median {median * 1e3:F1} ms ({timer.Flops / median / 1e9:F1} GFLOP/s at 4·n²·d per head), " +
            $"fastest {samples[0] * 1e3:F1} ms, of {samples.Length}");
    });
    return command;
}
