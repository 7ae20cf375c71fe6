using System.Diagnostics;
using System.Text;
using GlmSharp.Errors;

namespace GlmSharp.Cli.Commands.Bench;

/// <summary>
/// Two engines' runs whose decode rounds alternate: the first prefills and waits, the second prefills and waits, then
/// each decodes one round in turn until both have made <see cref="RunSettings.DecodeRepeats"/>. This VM's read
/// bandwidth moves between phases lasting minutes (probes of 18–38 GB/s within an hour), and a 64K-token --depth
/// prefills for tens of minutes, so two runs made one after the other decode in different phases; two rounds a few
/// seconds apart share one, which makes each round's pair of speeds a paired sample.
/// </summary>
internal static class LockstepPair
{
    /// <param name="probe">The read bandwidth, probed once both runs wait for their first round.</param>
    public static (TimedRun First, TimedRun Second) Run(string firstEngine, ProcessStartInfo first, string secondEngine, ProcessStartInfo second,
        int rounds, Func<double> probe)
    {
        using var a = LockstepRun.Start(firstEngine, first);
        a.WaitForTurn();
        using var b = LockstepRun.Start(secondEngine, second);
        b.WaitForTurn();
        double bandwidth = probe();
        for (int round = 1; round < rounds; round++)
        {
            a.Go();
            a.WaitForTurn();
            b.Go();
            b.WaitForTurn();
        }
        a.Go();
        var firstResult = a.Result();
        b.Go();
        return (new TimedRun(firstResult, bandwidth), new TimedRun(b.Result(), bandwidth));
    }

    /// <summary>One engine's run in <see cref="RunSettings.Lockstep"/> mode: its stdout read line by line, its stderr kept for the error of a failed run.</summary>
    private sealed class LockstepRun : IDisposable
    {
        private readonly string _engine;
        private readonly Process _process;
        private readonly StringBuilder _stderr = new();
        private string _lastLine = "";

        private LockstepRun(string engine, Process process)
        {
            _engine = engine;
            _process = process;
            _process.ErrorDataReceived += (_, e) =>
            {
                if (e.Data is null) return;
                lock (_stderr) _stderr.AppendLine(e.Data);
            };
            _process.BeginErrorReadLine();
        }

        public static LockstepRun Start(string engine, ProcessStartInfo start)
        {
            start.RedirectStandardInput = true;
            return new LockstepRun(engine, ChildProcess.Start(start, $"run {engine}"));
        }

        /// <summary>Returns once the run asks for its next round; a run that ends first is its own one-line error.</summary>
        public void WaitForTurn()
        {
            if (ReadUntilTurn()) return;
            _process.WaitForExit();
            throw ChildProcess.Failure(_engine, _process.ExitCode, _lastLine, Stderr());
        }

        public void Go()
        {
            _process.StandardInput.WriteLine("go");
            _process.StandardInput.Flush();
        }

        /// <summary>The result the run prints after its last round.</summary>
        public EngineResult Result()
        {
            if (ReadUntilTurn()) throw new GlmException($"the {_engine} run asked for more decode rounds than glm bench gave it");
            _process.WaitForExit();
            return ChildProcess.EngineResult<EngineResult>(_engine, _process.ExitCode, _lastLine, Stderr());
        }

        private bool ReadUntilTurn()
        {
            while (_process.StandardOutput.ReadLine() is { } line)
            {
                if (line == RunSettings.TurnSignal) return true;
                if (line.Length > 0) _lastLine = line;
            }
            return false;
        }

        private string Stderr()
        {
            lock (_stderr) return _stderr.ToString();
        }

        public void Dispose()
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            _process.Dispose();
        }
    }
}
