using System.Diagnostics;

namespace GlmSharp.Fuzz;

/// <summary>What the fuzzer reports: an untyped exception (by type and throwing frame, its root cause), a crash or a hang.</summary>
internal static class Finding
{
    /// <summary>The exception type and the first GlmSharp frame that threw it, one line.</summary>
    public static string Signature(Exception e)
    {
        var frame = new StackTrace(e, fNeedFileInfo: false).GetFrames()
            .Select(f => f.GetMethod())
            .FirstOrDefault(m => m?.DeclaringType?.Namespace?.StartsWith("GlmSharp", StringComparison.Ordinal) == true);
        string where = frame is null ? "?" : $"{frame.DeclaringType!.FullName}.{frame.Name}";
        return $"{e.GetType().FullName} at {where}: {e.Message.ReplaceLineEndings(" ")}";
    }
}
