using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Cost;
using GlmSharp.Planner.Models;

namespace GlmSharp.Planner.Tests;

public class CostModelTests
{
    private static readonly HardwareCatalog Catalog = HardwareCatalog.Load();

    private static Deployment Dep(string model, string hw, Precision p, Parallelism par, double kv = 2) => new()
    {
        Model = ModelCatalog.Load(model), System = Catalog.System(hw), Precision = p, Parallel = par, KvBytes = kv,
    };

    [Fact]
    public void Dense_Decode_Gemm_Flops_Are_Two_Per_Matmul_Parameter_Per_Token()
    {
        var d = Dep("glm-4-9b", "h100-sxm", Precision.Bf16, Parallelism.Single);
        var ops = OperatorGraph.Build(d, StepBatch.Decode(1, 1, 0, null));
        // GLM-4-9B by hand: 40 × (QKV 4096×(32+2·2)×128 + O 32·128×4096 + MLP 3×4096×13696) + LM head 4096×151552.
        double matmulParams = 40.0 * (4096.0 * 36 * 128 + 32.0 * 128 * 4096 + 3.0 * 4096 * 13696) + 4096.0 * 151552;
        double gemm = ops.Where(o => o.Kind == OperatorKind.Gemm).Sum(o => o.Count * o.Flops);
        Assert.Equal(2 * matmulParams, gemm, 2 * matmulParams * 1e-12);
        double attention = ops.Where(o => o.Kind == OperatorKind.AttentionMath).Sum(o => o.Count * o.Flops);
        Assert.Equal(40.0 * 4 * 32 * 128 * 1, attention, 1e-6);
    }

    [Fact]
    public void Kv_Bytes_Per_Token_Match_Hand_Values_For_Gqa_And_Mla()
    {
        Assert.Equal(92 * 2 * 8 * 128 * 2, ModelCatalog.Load("glm-4.7").KvBytesPerToken(2));
        Assert.Equal(40 * 2 * 2 * 128 * 2, ModelCatalog.Load("glm-4-9b").KvBytesPerToken(2));
        Assert.Equal(61 * (512 + 64) * 2, ModelCatalog.Load("deepseek-v3").KvBytesPerToken(2));
        // GLM-5: MLA latent on 78 layers plus the FP8 indexer key (128 B + 4 B scale) on every layer.
        Assert.Equal(78 * 576 * 1 + 78 * 132, ModelCatalog.Load("glm-5").KvBytesPerToken(1));
    }

    [Fact]
    public void Active_Parameters_Match_Published_Sizes()
    {
        Assert.InRange(ModelCatalog.Load("deepseek-v3").TotalParams / 1e9, 665, 680);
        Assert.InRange(ModelCatalog.Load("deepseek-v3").ActiveParams / 1e9, 36, 39);
        Assert.InRange(ModelCatalog.Load("glm-4.7").TotalParams / 1e9, 350, 360);
        Assert.InRange(ModelCatalog.Load("glm-5").TotalParams / 1e9, 735, 755);
    }

    [Fact]
    public void Mla_Decode_Attention_Uses_Absorbed_Latent_Width()
    {
        var d = Dep("deepseek-v3", "h100-sxm", Precision.Fp8, new Parallelism(1, 1, 8, 8));
        var core = OperatorGraph.Build(d, StepBatch.Decode(1, 1000, 0, null)).Single(o => o.Name == "attn.mla_core");
        Assert.Equal(2.0 * 128 * (576 + 512) * 1000, core.Flops);
        Assert.Equal(1000.0 * 576 * 2, core.Bytes);
    }

    [Fact]
    public void Causal_Pairs_Count_And_Cap()
    {
        Assert.Equal(10, StepBatch.CausalPairs(0, 4, double.MaxValue));
        Assert.Equal(7, StepBatch.CausalPairs(0, 4, 2));
        // Queries at positions 3..7 after 2 cached tokens, each capped at 5 keys: 3 + 4 + 5 + 5 + 5.
        Assert.Equal(22, StepBatch.CausalPairs(2, 5, 5));
    }

    [Fact]
    public void Ring_AllReduce_Matches_Worked_Example()
    {
        // n=4, 1 MB, 100 GB/s, 1 us: 2·3 latencies + 2·(3/4)·1e6/1e11 s.
        Assert.Equal(2.1e-5, Collectives.AllReduce(4, 1e6, 1e11, 1e-6), 1e-12);
        Assert.Equal(0, Collectives.AllReduce(1, 1e6, 1e11, 1e-6));
        Assert.Equal(3e-6 + 0.75e-5, Collectives.AllGather(4, 1e6, 1e11, 1e-6), 1e-12);
    }

    [Fact]
    public void DeepSeek_Bf16_Does_Not_Fit_One_H100_But_Fits_Wide_Ep()
    {
        var one = Dep("deepseek-v3", "h100-sxm", Precision.Bf16, Parallelism.Single);
        Assert.Equal(0, MemoryModel.KvTokenCapacityPerChip(one));
        Assert.Equal(0, MemoryModel.MaxBatchPerChip(one, 1000));
        var wide = Dep("deepseek-v3", "dgx-h100", Precision.Fp8, new Parallelism(1, 1, 32, 32));
        Assert.True(MemoryModel.MaxBatchPerChip(wide, 2000) > 100);
    }

    [Fact]
    public void Parallelism_Rejects_Ep_Not_Dividing_Stage()
    {
        var d = Dep("deepseek-v3", "dgx-h100", Precision.Fp8, new Parallelism(1, 1, 3, 8));
        Assert.Throws<PlanRequestException>(d.Check);
    }
}
