using System.Collections.Concurrent;
using System.Diagnostics;

namespace GlmSharp.Fuzz;

/// <summary>
/// Runs inputs in child worker processes, so that a crash (a stack overflow cannot be caught) ends one worker, not the
/// run: the input a worker had started when it died, or spent longer than the time limit on, is a finding; the worker is
/// replaced and the rest of its inputs run. Untyped exceptions are grouped by signature (type and throwing frame).
/// Every finding's input is regenerated from its number and saved.
/// </summary>
internal sealed class Supervisor(string corpus, string findings, int seed, IReadOnlyList<Target> targets, int workers, TimeSpan inputTimeLimit)
{
    private readonly ConcurrentDictionary<string, long> _counts = new();
    private readonly ConcurrentDictionary<string, (Target Target, long Index)> _signatures = new();
    private readonly ConcurrentQueue<(Target Target, long First, long Count)> _chunks = new();
    private long _finished;

    public long Inputs => _finished;
    public IReadOnlyDictionary<string, long> Counts => _counts;
    public IReadOnlyDictionary<string, (Target Target, long Index)> Signatures => _signatures;
    public long Untyped => Count("untyped");
    public long Crashes => Count("crash");
    public long Hangs => Count("hang");

    private long Count(string kind) => _counts.Where(c => c.Key.StartsWith(kind + " ", StringComparison.Ordinal)).Sum(c => c.Value);

    /// <summary>Runs <paramref name="inputsPerTarget"/> inputs of each target, or until <paramref name="deadline"/>.</summary>
    public void Run(long inputsPerTarget, DateTime deadline, long chunk)
    {
        Directory.CreateDirectory(findings);
        var handedOut = new long[targets.Count];
        int turn = 0;
        bool NextChunk(out (Target Target, long First, long Count) work)
        {
            lock (handedOut)
            {
                if (_chunks.TryDequeue(out work)) return true;
                for (int tried = 0; tried < targets.Count; tried++, turn = (turn + 1) % targets.Count)
                {
                    if (handedOut[turn] >= inputsPerTarget) continue;
                    long count = Math.Min(chunk, inputsPerTarget - handedOut[turn]);
                    work = (targets[turn], handedOut[turn], count);
                    handedOut[turn] += count;
                    turn = (turn + 1) % targets.Count;
                    return true;
                }
                return false;
            }
        }
        var threads = Enumerable.Range(0, workers).Select(_ => new Thread(() =>
        {
            while (DateTime.UtcNow < deadline && NextChunk(out var work))
            {
                long next = RunChunk(work.Target, work.First, work.Count, deadline);
                if (next < work.First + work.Count && DateTime.UtcNow < deadline) _chunks.Enqueue((work.Target, next, work.First + work.Count - next));
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
    }

    /// <summary>Runs a chunk in one worker; returns the first input it did not finish (after a crash or hang, the one after it).</summary>
    private long RunChunk(Target target, long first, long count, DateTime deadline)
    {
        using var process = StartWorker(target, first, count);
        long started = -1, next = first;
        var lastStart = Stopwatch.StartNew();
        var lines = new BlockingCollection<string?>();
        process.OutputDataReceived += (_, e) => lines.Add(e.Data);
        process.BeginOutputReadLine();
        while (true)
        {
            if (!lines.TryTake(out var line, TimeSpan.FromMilliseconds(200)))
            {
                if (started >= 0 && lastStart.Elapsed > inputTimeLimit)
                {
                    Kill(process);
                    Record(target, started, "hang", $"no result after {inputTimeLimit.TotalSeconds:0} s");
                    return started + 1;
                }
                if (DateTime.UtcNow > deadline + inputTimeLimit) { Kill(process); return next; }
                continue;
            }
            if (line is null)
            {
                process.WaitForExit();
                if (started < 0) return next;
                Record(target, started, "crash", $"worker exited with code {process.ExitCode} during the input");
                return started + 1;
            }
            var parts = line.Split(' ', 3);
            if (parts.Length < 2 || !long.TryParse(parts[1], out long index)) continue;
            if (parts[0] == "run")
            {
                started = index;
                lastStart.Restart();
                continue;
            }
            started = -1;
            next = index + 1;
            Interlocked.Increment(ref _finished);
            if (parts[0] == "untyped") Record(target, index, "untyped", parts.Length > 2 ? parts[2] : "?");
            else _counts.AddOrUpdate($"{parts[0]} {target.Name}", 1, (_, n) => n + 1);
        }
    }

    private void Record(Target target, long index, string kind, string detail)
    {
        _counts.AddOrUpdate($"{kind} {target.Name}", 1, (_, n) => n + 1);
        string signature = kind == "untyped" ? detail : $"{kind} in {target.Name}: {detail}";
        if (!_signatures.TryAdd(signature, (target, index))) return;
        var input = Mutator.Mutate(File.ReadAllBytes(Path.Combine(corpus, target.File)), target.Kind,
            Safetensors.StructuredBytes(Path.Combine(corpus, target.File)), Mutator.RandomFor(seed, target, index));
        string name = $"{target.Name}-{index}{Path.GetExtension(target.File)}";
        File.WriteAllBytes(Path.Combine(findings, name), input);
        lock (_signatures) File.AppendAllText(Path.Combine(findings, "findings.txt"), $"{name}\t{kind}\t{signature}\n");
    }

    private Process StartWorker(Target target, long first, long count)
    {
        string host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var start = new ProcessStartInfo(host) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { typeof(Supervisor).Assembly.Location, "worker", "--corpus", corpus, "--target", target.Name,
                     "--seed", seed.ToString(), "--first", first.ToString(), "--count", count.ToString() })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start a fuzz worker");
        process.ErrorDataReceived += (_, _) => { };
        process.BeginErrorReadLine();
        return process;
    }

    private static void Kill(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
        }
        catch (InvalidOperationException)
        {
        }
    }
}
