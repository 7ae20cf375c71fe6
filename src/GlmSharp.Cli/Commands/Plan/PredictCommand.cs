using System.CommandLine;
using System.Text.Json;
using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;
using GlmSharp.Planner.Models;
using GlmSharp.Planner.Serving;
using Spectre.Console;

namespace GlmSharp.Cli.Commands.Plan;

internal static class PredictCommand
{
    public static Command Create()
    {
        var hardware = new Option<string>("--hardware") { Description = "System or chip id from the catalog", Required = true };
        var model = new Option<string>("--model") { Description = "Model id (glm-4.7, glm-5, deepseek-v3, ...) or a config.json path", Required = true };
        var precision = new Option<string>("--precision") { Description = "bf16, fp8, int8 or fp4", DefaultValueFactory = _ => "bf16" };
        var kvPrecision = new Option<string>("--kv-precision") { Description = "KV-cache format: bf16 or fp8/int8", DefaultValueFactory = _ => "bf16" };
        var chips = new Option<int?>("--chips") { Description = "Chips of the decode (or aggregated) pool; sets dp when --dp is absent" }.Within(NumericRange.AtLeast(1));
        var tp = new Option<int>("--tp") { DefaultValueFactory = _ => 1 }.Within(NumericRange.AtLeast(1));
        var ep = new Option<int>("--ep") { DefaultValueFactory = _ => 1 }.Within(NumericRange.AtLeast(1));
        var dp = new Option<int?>("--dp").Within(NumericRange.AtLeast(1));
        var pp = new Option<int>("--pp") { DefaultValueFactory = _ => 1 }.Within(NumericRange.AtLeast(1));
        var phase = new Option<string>("--phase") { Description = "prefill, decode or both", DefaultValueFactory = _ => "both" }.OneOf(["prefill", "decode", "both"]);
        var input = new Option<string>("--input-len") { Description = "N or MIN:MAX", DefaultValueFactory = _ => "1024" };
        var output = new Option<string>("--output-len") { Description = "N or MIN:MAX", DefaultValueFactory = _ => "1024" };
        var batch = new Option<int?>("--batch-per-chip") { Description = "Hold this many requests per chip (steady state)" }.Within(NumericRange.AtLeast(1));
        var concurrency = new Option<int?>("--concurrency") { Description = "Closed loop: keep this many requests in flight (simulated)" }.Within(NumericRange.AtLeast(1));
        var rate = new Option<double?>("--rate") { Description = "Poisson arrivals per second (simulated)" }.Within(NumericRange.Above(0));
        var mtp = PlanOptions.MtpAcceptance();
        var prefillChips = new Option<int?>("--prefill-chips") { Description = "Disaggregate: a separate prefill pool of this many chips (same tp/ep shape)" }
            .Within(NumericRange.AtLeast(1));
        var noOverlap = new Option<bool>("--no-overlap") { Description = "Do not overlap communication with computation" };
        var requests = new Option<int>("--requests") { Description = "Requests to simulate", DefaultValueFactory = _ => 2000 }.Within(NumericRange.AtLeast(1));
        var command = new Command("predict", "Predict throughput, latency and memory of one configuration")
        {
            hardware, model, precision, kvPrecision, chips, tp, ep, dp, pp, phase, input, output, batch, concurrency, rate, mtp, prefillChips,
            noOverlap, requests, PlanOptions.Json, PlanOptions.Catalog, PlanOptions.Efficiency,
        };
        command.SetAction(parse =>
        {
            var catalog = PlanOptions.LoadCatalog(parse);
            var table = PlanOptions.LoadEfficiency(parse);
            var system = catalog.System(parse.GetValue(hardware)!);
            var shape = ModelCatalog.Load(parse.GetValue(model)!);
            var prec = Precisions.Parse(parse.GetValue(precision)!, "--precision");
            int tpV = parse.GetValue(tp), ppV = parse.GetValue(pp), epV = parse.GetValue(ep);
            int dpV = parse.GetValue(dp) ?? (parse.GetValue(chips) is { } c ? c / (tpV * ppV) : 1);
            if (parse.GetValue(chips) is { } total && total != tpV * ppV * dpV)
                throw new PlanRequestException($"--chips {total} does not equal tp×pp×dp = {tpV * ppV * dpV}");
            double acceptance = parse.GetValue(mtp);
            var dep = new Deployment
            {
                Model = shape, System = system, Precision = prec, Parallel = new Parallelism(tpV, ppV, epV, dpV),
                KvBytes = Precisions.Parse(parse.GetValue(kvPrecision)!, "--kv-precision") == Precision.Bf16 ? 2 : 1,
                Overlap = !parse.GetValue(noOverlap), DraftTokens = acceptance > 0 && shape.NextNLayers > 0 ? 1 : 0,
            };
            dep.Check();
            var eff = table.For(system.Chip.Family, prec, out string basis);
            var inLen = LengthDistribution.Parse(parse.GetValue(input)!, "--input-len");
            var outLen = LengthDistribution.Parse(parse.GetValue(output)!, "--output-len");
            var prediction = Predict(parse, dep, table, eff, inLen, outLen, acceptance, parse.GetValue(phase)!, parse.GetValue(batch),
                parse.GetValue(concurrency), parse.GetValue(rate), parse.GetValue(prefillChips), parse.GetValue(requests));
            prediction["efficiency_basis"] = basis;
            prediction["layout"] = dep.Parallel.ToString();
            if (parse.GetValue(PlanOptions.Json)) Console.WriteLine(JsonSerializer.Serialize(prediction, PlanOptions.JsonOut));
            else
            {
                var t = new Table().AddColumns("quantity", "value");
                foreach (var (k, v) in prediction)
                {
                    if (v is Dictionary<string, string> parts) { foreach (var (name, time) in parts) t.AddRow($"{k}: {name}", time); }
                    else t.AddRow(k, Markup.Escape(v is double d ? d.ToString("G5") : v?.ToString() ?? "-"));
                }
                AnsiConsole.Write(t);
            }
            return 0;
        });
        return command;
    }

    private static Dictionary<string, object?> Predict(ParseResult parse, Deployment dep, EfficiencyTable table, EfficiencyFactors eff,
        LengthDistribution inLen, LengthDistribution outLen, double acceptance, string phase, int? batch, int? concurrency, double? rate, int? prefillChips, int requests)
    {
        var cost = new StepCostModel(dep, eff);
        int chips = dep.Parallel.Chips;
        double context = inLen.Mean + outLen.Mean / 2;
        var r = new Dictionary<string, object?>();
        if (batch is { } b && concurrency is null && rate is null)
        {
            var prefill = SteadyState.Prefill(cost, Math.Max(1, b * inLen.Mean / 1.0), (int)inLen.Mean);
            var ttftOne = SteadyState.Prefill(cost, inLen.Mean / (dep.Parallel.Tp * dep.Parallel.Pp), (int)inLen.Mean).LatencySeconds;
            var decode = SteadyState.Decode(cost, b, context, acceptance);
            bool prefillOnly = phase == "prefill";
            double inRate = prefillOnly ? prefill.TokensPerSecondPerChip : phase == "decode" ? 0
                : SteadyState.BalancedOutputPerChip(prefill.TokensPerSecondPerChip, decode.TokensPerSecondPerChip, inLen.Mean, outLen.Mean) * inLen.Mean / outLen.Mean;
            double outRate = prefillOnly ? 0 : phase == "decode" ? decode.TokensPerSecondPerChip
                : SteadyState.BalancedOutputPerChip(prefill.TokensPerSecondPerChip, decode.TokensPerSecondPerChip, inLen.Mean, outLen.Mean);
            var point = prefillOnly ? prefill : decode;
            r["input_tokens_per_s_per_chip"] = inRate;
            r["output_tokens_per_s_per_chip"] = outRate;
            r["system_tokens_per_s"] = (inRate + outRate) * chips;
            r["ttft_ms_p50"] = (prefillOnly ? prefill.LatencySeconds : ttftOne) * 1e3;
            r["tpot_ms_p50"] = prefillOnly ? null : decode.LatencySeconds * 1e3;
            r["memory_per_chip_gb"] = point.MemoryPerChipBytes / 1e9;
            r["fits"] = point.Fits;
            r["mode"] = phase == "both" ? "steady state, prefill pool sized to match (disaggregated)" : $"steady state, {phase} only";
            var stepBatch = prefillOnly
                ? StepBatch.Prefill((int)inLen.Mean, 0, dep.Model.Attention.Indexer?.TopK, completes: true).Scale(Math.Max(1, b * dep.Parallel.Tp * dep.Parallel.Pp))
                : StepBatch.Decode(b * dep.Parallel.Tp * dep.Parallel.Pp, context, dep.DraftTokens, dep.Model.Attention.Indexer?.TopK);
            r["step_breakdown_ms"] = cost.Breakdown(stepBatch).ToDictionary(o => o.Name,
                o => o.Communication > 0 ? $"comm {o.Communication * 1e3:F3}" : $"math {o.Compute * 1e3:F3} / hbm {o.Memory * 1e3:F3}");
            return r;
        }
        var workload = new Workload
        {
            Input = inLen, Output = outLen, Requests = requests,
            Arrivals = rate is not null ? ArrivalKind.Poisson : concurrency is not null ? ArrivalKind.ClosedLoop : ArrivalKind.Offline,
            RatePerSecond = rate ?? 0, Concurrency = concurrency ?? 0,
        };
        Deployment? prefillDep = prefillChips is { } pc ? dep with { Parallel = dep.Parallel with { Dp = pc / (dep.Parallel.Tp * dep.Parallel.Pp), Ep = Math.Min(dep.Parallel.Ep, pc / dep.Parallel.Pp) } } : null;
        var layout = new ServingLayout(dep, prefillDep);
        var sim = ServingSimulator.Run(layout, table, workload, acceptance);
        r["input_tokens_per_s_per_chip"] = sim.InputTokensPerSecondPerChip;
        r["output_tokens_per_s_per_chip"] = sim.OutputTokensPerSecondPerChip;
        r["system_tokens_per_s"] = sim.SystemTokensPerSecond;
        r["ttft_ms_p50"] = sim.TtftP50Ms;
        r["ttft_ms_p99"] = sim.TtftP99Ms;
        r["tpot_ms_p50"] = sim.TpotP50Ms;
        r["tpot_ms_p99"] = sim.TpotP99Ms;
        r["goodput_requests_per_s"] = sim.GoodputRequestsPerSecond;
        r["memory_per_chip_gb"] = MemoryModel.BytesPerChip(dep, MemoryModel.KvTokenCapacityPerChip(dep) * sim.PeakKvFraction) / 1e9;
        r["fits"] = MemoryModel.WeightBytesPerChip(dep) < MemoryModel.UsableBytes(dep);
        r["mode"] = $"simulated {workload.Arrivals} ({(prefillDep is null ? "aggregated, chunked prefill" : "disaggregated")}), {sim.Completed} requests";
        return r;
    }
}
