using GlmSharp.Tensors;

namespace GlmSharp.Models;

/// <summary>Reported after each tensor a GGUF export writes.</summary>
public readonly record struct ExportProgress(int TensorsDone, int TensorCount, string TensorName, GgmlType TensorType, long BytesWritten, long TotalBytes);
