using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;
using GlmSharp.Planner.Models;
using GlmSharp.Planner.Serving;

namespace GlmSharp.Planner.Tests;

public class SimulatorTests
{
    private static readonly Deployment Glm9bOnH100 = new()
    {
        Model = ModelCatalog.Load("glm-4-9b"), System = HardwareCatalog.Load().System("h100-sxm"), Precision = Precision.Bf16, Parallel = Parallelism.Single,
    };

    private static SimulationResult Run(Workload w, Deployment? prefill = null) =>
        ServingSimulator.Run(new ServingLayout(Glm9bOnH100, prefill), EfficiencyTable.Empty, w, 0);

    [Fact]
    public void Every_Request_Completes_Exactly_Once_And_Littles_Law_Holds()
    {
        var r = Run(new Workload { Input = new(200, 800), Output = new(20, 200), Arrivals = ArrivalKind.Poisson, RatePerSecond = 20, Requests = 300 });
        Assert.All(r.CompletionCounts, c => Assert.Equal(1, c));
        Assert.Equal(300, r.Completed);
        // Over a run that starts and ends empty, time-average occupancy × duration = total time spent in the system.
        Assert.Equal(r.MeanInSystem * r.MakespanSeconds, r.MeanLatencySeconds * 300, 1e-6 * r.MeanLatencySeconds * 300);
    }

    [Fact]
    public void Kv_Reservation_Never_Exceeds_Capacity_Under_Overload()
    {
        var r = Run(new Workload { Input = LengthDistribution.Fixed(30000), Output = LengthDistribution.Fixed(2000), Arrivals = ArrivalKind.Offline, Requests = 200 });
        Assert.InRange(r.PeakKvFraction, 0.5, 1.0);
        Assert.Equal(200, r.Completed);
    }

    [Fact]
    public void Closed_Loop_Decode_Rate_Matches_Steady_State()
    {
        var r = Run(new Workload { Input = LengthDistribution.Fixed(1), Output = LengthDistribution.Fixed(400), Arrivals = ArrivalKind.ClosedLoop, Concurrency = 32, Requests = 256 });
        var steady = SteadyState.Decode(new StepCostModel(Glm9bOnH100, EfficiencyFactors.Default), 32, 200, 0);
        Assert.InRange(r.OutputTokensPerSecondPerChip / steady.TokensPerSecondPerChip, 0.9, 1.1);
    }

    [Fact]
    public void Disaggregated_Run_Completes_With_Kv_Transfer_In_Ttft()
    {
        var r = Run(new Workload { Input = LengthDistribution.Fixed(1000), Output = LengthDistribution.Fixed(50), Arrivals = ArrivalKind.Poisson, RatePerSecond = 5, Requests = 100 }, Glm9bOnH100);
        Assert.Equal(100, r.Completed);
        Assert.True(r.TtftP50Ms > 0);
    }

    [Fact]
    public void Mtp_Tokens_Per_Step_Follow_Chain_Acceptance()
    {
        Assert.Equal(1.7, SteadyState.TokensPerStep(1, 0.7), 12);
        Assert.Equal(1 + 0.5 + 0.25, SteadyState.TokensPerStep(2, 0.5), 12);
    }
}
