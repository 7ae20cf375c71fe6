using GlmSharp.Configs;
using GlmSharp.Kernels;
using GlmSharp.Kernels.Cpu;
using GlmSharp.Kernels.Paging;
using GlmSharp.Models;

namespace GlmSharp.Tests.Models;

/// <summary>
/// KV cache per token of real configs, as the block pool allocates it, against the shapes worked out by hand:
/// GLM-4.7-Flash caches one MLA latent row per layer, 47 × (512 + 64) values; the dense GLM-4-32B-0414 (about the same
/// size) caches keys and values of 8 kv heads of 128 in 61 layers, 61 × 2 × 8 × 128 values. GLM-5 caches the latent row
/// and one 128-value DSA indexer key in each of its 78 layers, 78 × (576 + 128); GLM-5.2's IndexShare keeps indexer keys
/// only in its 21 full layers, 78 × 576 + 21 × 128. Q8_0 stores 32 values in 34 bytes.
/// </summary>
public sealed class KvCacheSizeTests
{
    [Theory]
    [InlineData("glm-4.7-flash", KvCacheType.F32, 47 * 576 * 4)]          // 105.75 KiB
    [InlineData("glm-4.7-flash", KvCacheType.F16, 47 * 576 * 2)]          // 52.875 KiB
    [InlineData("glm-4.7-flash", KvCacheType.Q8_0, 47 * 576 / 32 * 34)]   // 28.09 KiB
    [InlineData("glm-4-32b-0414", KvCacheType.F32, 61 * 2 * 8 * 128 * 4)] // 488 KiB
    [InlineData("glm-4-32b-0414", KvCacheType.F16, 61 * 2 * 8 * 128 * 2)] // 244 KiB
    [InlineData("glm-5", KvCacheType.F32, 78 * (576 + 128) * 4)]          // 214.5 KiB
    [InlineData("glm-5", KvCacheType.F16, 78 * (576 + 128) * 2)]          // 107.25 KiB
    [InlineData("glm-5", KvCacheType.Q8_0, 78 * (576 + 128) / 32 * 34)]   // 56.98 KiB
    [InlineData("glm-5.2", KvCacheType.F16, (78 * 576 + 21 * 128) * 2)]   // 93 KiB
    public void Cache_Bytes_Per_Token_Follow_The_Cached_Shapes(string checkpoint, KvCacheType type, int bytesPerToken)
    {
        var config = HfConfigLoader.Load(Path.Combine(AppContext.BaseDirectory, "Golden", checkpoint + ".config.json"));
        var layout = TensorListing.CacheLayout(ModelRegistry.ByModelType(config.ModelType, checkpoint), config);
        const int positions = 16;
        using var pool = new KvBlockPool(layout, blockCount: 1, positions, type, CpuBackend.Instance);
        Assert.Equal(bytesPerToken, pool.BytesPerBlock / positions);
    }

    /// <summary>GLM-5 with its indexer keys given Q8_0 by name (the int8 indexer) beside F16 latents: 78 × (576 · 2 + 128 / 32 · 34).</summary>
    [Fact]
    public void Stream_Types_Give_The_Named_Stream_Its_Own_Element_Type()
    {
        var config = HfConfigLoader.Load(Path.Combine(AppContext.BaseDirectory, "Golden", "glm-5.config.json"));
        var layout = TensorListing.CacheLayout(ModelRegistry.ByModelType(config.ModelType, "glm-5"), config);
        const int positions = 16;
        using var pool = new KvBlockPool(layout, blockCount: 1, positions, KvCacheType.F16, CpuBackend.Instance,
            new Dictionary<string, KvCacheType> { [GlmSharp.Models.Blocks.DsaIndexer.KeyStream] = KvCacheType.Q8_0 });
        Assert.Equal(78 * (576 * 2 + 128 / 32 * 34), pool.BytesPerBlock / positions);
        Assert.Equal((KvCacheType.F16, KvCacheType.Q8_0), (pool.Stream(0, 0).ElementType, pool.Stream(0, 1).ElementType));
    }
}
