using GlmSharp.Planner.Catalog;
using GlmSharp.Planner.Claims;
using GlmSharp.Planner.Cost;

namespace GlmSharp.Planner.Tests;

public class CatalogTests
{
    private static HardwareCatalog FromJson(string json) =>
        HardwareCatalog.FromDocuments([(EmbeddedData.Parse(json, "user.json"), "user.json")]);

    private const string GoodChip = """{"id":"x1","family":"f","status":"claim","source":"s","peak_tflops":{"bf16":100},"hbm_gb":10,"hbm_tbps":1,"scale_up_gbps":50}""";

    [Fact]
    public void Shipped_Catalog_Keeps_Hardware_Json_Ids()
    {
        var c = HardwareCatalog.Load();
        foreach (var id in new[] { "cloudmatrix384", "gb200-nvl72", "atlas950-superpod", "vera-rubin-nvl144" }) Assert.Equal(id, c.System(id).Id);
        Assert.Equal(752, c.Chip("ascend-910c").PeakTflops[Precision.Bf16].Value);
        Assert.Equal("derived", c.Chip("ascend-910c").PeakTflops[Precision.Int8].Status);
    }

    [Fact]
    public void Missing_Field_Error_Names_File_Record_And_Field()
    {
        var e = Assert.Throws<CatalogFormatException>(() => FromJson($$"""{"chips":[{{GoodChip.Replace(",\"hbm_tbps\":1", "")}}]}"""));
        Assert.Contains("user.json", e.Message);
        Assert.Contains("'x1'", e.Message);
        Assert.Contains("hbm_tbps", e.Message);
    }

    [Fact]
    public void Bad_Status_And_Unknown_Precision_Are_Rejected()
    {
        Assert.Contains("status", Assert.Throws<CatalogFormatException>(() => FromJson($$"""{"chips":[{{GoodChip.Replace("\"claim\"", "\"rumour\"")}}]}""")).Message);
        Assert.Contains("peak_tflops.fp6", Assert.Throws<CatalogFormatException>(() => FromJson($$"""{"chips":[{{GoodChip.Replace("\"bf16\"", "\"fp6\"")}}]}""")).Message);
    }

    [Fact]
    public void System_Naming_Unknown_Chip_Is_Rejected()
    {
        var e = Assert.Throws<CatalogFormatException>(() => FromJson("""{"systems":[{"id":"s1","chip":"nope","scale_up_domain":8,"status":"claim","source":"s"}]}"""));
        Assert.Contains("'s1'", e.Message);
        Assert.Contains("chip", e.Message);
    }

    [Fact]
    public void User_Chip_Is_Usable_With_Its_Own_Status_Per_Number()
    {
        var c = FromJson($$"""{"chips":[{{GoodChip.Replace("\"hbm_gb\":10", "\"hbm_gb\":{\"value\":12,\"status\":\"measured\"}")}}]}""");
        Assert.Equal(12, c.Chip("x1").HbmGb.Value);
        Assert.Equal("measured", c.Chip("x1").HbmGb.Status);
        Assert.Equal("claim", c.Chip("x1").HbmTbps.Status);
    }

    [Fact]
    public void Atlas950_Ratio_Claims_Reproduce_From_Per_Chip_Numbers()
    {
        var results = ClaimChecker.Check(HardwareCatalog.Load(), EfficiencyTable.LoadShipped());
        Assert.InRange(results[0].Reproduced, 6.6, 6.9);   // 8.19 EF / 1.2 EF
        Assert.InRange(results[1].Reproduced, 62, 64);     // 16.4 PB/s / 259 TB/s
        Assert.InRange(results[2].Reproduced, 14.9, 15.6); // 1,152 TiB / 75 TB
        Assert.All(results.Take(3), r => Assert.True(r.ArithmeticHolds));
    }
}
