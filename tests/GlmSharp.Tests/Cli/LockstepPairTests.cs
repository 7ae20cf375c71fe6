using System.Diagnostics;
using GlmSharp.Cli.Commands.Bench;
using GlmSharp.Errors;
using GlmSharp.Tests.Support;

namespace GlmSharp.Tests.Cli;

/// <summary>
/// glm bench's alternated decode rounds, driven against stand-in runs (shell scripts that speak the run protocol and
/// log each round they make), so the order of the rounds is observed rather than inferred from timings.
/// </summary>
public sealed class LockstepPairTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>A stand-in run: some noise on stdout, then before each of <paramref name="rounds"/> rounds the turn signal and a wait for input.</summary>
    private ProcessStartInfo StandIn(string name, int rounds, string log, double decodeTokS, string failure = "")
    {
        string script = $$"""
            echo "loading {{name}}"; echo "log line on stderr" >&2
            {{failure}}
            for r in $(seq 1 {{rounds}}); do
              echo {{RunSettings.TurnSignal}}
              read go || exit 3
              echo "{{name}} $r" >> '{{log}}'
            done
            echo '{"prefill_tok_s":10,"decode_tok_s":{{decodeTokS}},"load_s":0.5,"peak_rss_mb":100,"decode_samples_tok_s":[{{decodeTokS}}]}'
            """;
        return new ProcessStartInfo("sh", ["-c", script]);
    }

    [Fact]
    public void Rounds_Alternate_First_Engine_First_And_Each_Run_Reports_Its_Result()
    {
        string log = _dir.File("rounds.log");
        int probes = 0;

        var (first, second) = LockstepPair.Run("ours", StandIn("ours", 3, log, 7), "theirs", StandIn("theirs", 3, log, 5), 3, () => ++probes * 1e9);

        Assert.Equal(["ours 1", "theirs 1", "ours 2", "theirs 2", "ours 3", "theirs 3"], File.ReadAllLines(log));
        Assert.Equal(1, probes);
        Assert.Equal((7.0, 1e9), (first.Result.DecodeTokS, first.Bandwidth));
        Assert.Equal((5.0, 1e9), (second.Result.DecodeTokS, second.Bandwidth));
    }

    [Fact]
    public void A_Run_That_Fails_Before_Its_Turn_Is_A_One_Line_Error_With_Its_Own_Reason()
    {
        string log = _dir.File("rounds.log");

        var error = Assert.Throws<GlmException>(() => LockstepPair.Run("ours", StandIn("ours", 2, log, 7), "theirs",
            StandIn("theirs", 2, log, 5, failure: "echo 'error: theirs.gguf: tensor blk.0.attn_q.weight is missing' >&2; exit 1"), 2, () => 1e9));

        Assert.Equal("the theirs run failed (exit 1): theirs.gguf: tensor blk.0.attn_q.weight is missing", error.Message);
        Assert.False(File.Exists(log), "no round may run before both engines wait for their first");
    }

    [Fact]
    public void A_Run_Asking_For_More_Rounds_Than_Given_Is_Refused()
    {
        string log = _dir.File("rounds.log");

        var error = Assert.Throws<GlmException>(() => LockstepPair.Run("ours", StandIn("ours", 3, log, 7), "theirs", StandIn("theirs", 2, log, 5), 2, () => 1e9));

        Assert.Equal("the ours run asked for more decode rounds than glm bench gave it", error.Message);
    }
}
