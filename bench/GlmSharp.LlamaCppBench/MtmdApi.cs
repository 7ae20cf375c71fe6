using System.Runtime.InteropServices;

// Compiled into the llama.cpp bench tool and into the tests' libmtmd oracle (tests/GlmSharp.Tests/Vision/LibMtmd.cs),
// so both call libmtmd's C functions through one set of signatures.
namespace GlmSharp.LlamaCppBench;

/// <summary>mtmd_input_text of this build: the text and its length in bytes (no NUL needed), then the two flags.</summary>
/// <remarks>
/// mtmd.h of older llama.cpp has no length after the pointer: reading the two flags as the length gave 256 bytes of text.
/// </remarks>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct MtmdInputText
{
    public byte* Text;
    public nuint TextLength;
    public byte AddSpecial;
    public byte ParseSpecial;
}

/// <summary>
/// libmtmd's C functions, from the libmtmd and libllama LLamaSharp already loaded (found again by their sonames).
/// They are called directly because LLamaSharp 0.30.0's managed tokenize passes the prompt's length including the NUL
/// and so appends a byte-0 token.
/// </summary>
internal sealed unsafe class MtmdApi
{
    /// <summary>mtmd_input_chunk_get_type's value for an image chunk (MTMD_INPUT_CHUNK_TYPE_IMAGE); 0 is text.</summary>
    public const int ImageChunk = 1;

    public static MtmdApi Instance => _instance ??= new MtmdApi();
    private static MtmdApi? _instance;

    public readonly delegate* unmanaged<uint, uint, byte*, nint> BitmapInit;
    public readonly delegate* unmanaged<nint, void> BitmapFree;
    public readonly delegate* unmanaged<nint> ChunksInit;
    public readonly delegate* unmanaged<nint, void> ChunksFree;
    public readonly delegate* unmanaged<nint, nuint> ChunksSize;
    public readonly delegate* unmanaged<nint, nuint, nint> ChunksGet;
    public readonly delegate* unmanaged<nint, int> ChunkType;
    public readonly delegate* unmanaged<nint, nuint*, int*> ChunkTextTokens;
    public readonly delegate* unmanaged<nint, nint> ChunkImageTokens;
    public readonly delegate* unmanaged<nint, nuint> ImageNx;
    public readonly delegate* unmanaged<nint, nuint> ImageNy;
    public readonly delegate* unmanaged<nint, nint, MtmdInputText*, nint*, nuint, int> Tokenize;
    public readonly delegate* unmanaged<nint, nint, int> EncodeChunk;
    public readonly delegate* unmanaged<nint, float*> OutputEmbd;
    public readonly delegate* unmanaged<nint, nint, nint, int, int, int, byte, int*, int> EvalChunks;
    public readonly delegate* unmanaged<nint, int, float*> LogitsIth;
    public readonly delegate* unmanaged<byte*> DefaultMarker;

    private MtmdApi()
    {
        nint mtmd = NativeLibrary.Load("libmtmd.so"), llama = NativeLibrary.Load("libllama.so");
        BitmapInit = (delegate* unmanaged<uint, uint, byte*, nint>)NativeLibrary.GetExport(mtmd, "mtmd_bitmap_init");
        BitmapFree = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(mtmd, "mtmd_bitmap_free");
        ChunksInit = (delegate* unmanaged<nint>)NativeLibrary.GetExport(mtmd, "mtmd_input_chunks_init");
        ChunksFree = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(mtmd, "mtmd_input_chunks_free");
        ChunksSize = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(mtmd, "mtmd_input_chunks_size");
        ChunksGet = (delegate* unmanaged<nint, nuint, nint>)NativeLibrary.GetExport(mtmd, "mtmd_input_chunks_get");
        ChunkType = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(mtmd, "mtmd_input_chunk_get_type");
        ChunkTextTokens = (delegate* unmanaged<nint, nuint*, int*>)NativeLibrary.GetExport(mtmd, "mtmd_input_chunk_get_tokens_text");
        ChunkImageTokens = (delegate* unmanaged<nint, nint>)NativeLibrary.GetExport(mtmd, "mtmd_input_chunk_get_tokens_image");
        ImageNx = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(mtmd, "mtmd_image_tokens_get_nx");
        ImageNy = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(mtmd, "mtmd_image_tokens_get_ny");
        Tokenize = (delegate* unmanaged<nint, nint, MtmdInputText*, nint*, nuint, int>)NativeLibrary.GetExport(mtmd, "mtmd_tokenize");
        EncodeChunk = (delegate* unmanaged<nint, nint, int>)NativeLibrary.GetExport(mtmd, "mtmd_encode_chunk");
        OutputEmbd = (delegate* unmanaged<nint, float*>)NativeLibrary.GetExport(mtmd, "mtmd_get_output_embd");
        EvalChunks = (delegate* unmanaged<nint, nint, nint, int, int, int, byte, int*, int>)NativeLibrary.GetExport(mtmd, "mtmd_helper_eval_chunks");
        LogitsIth = (delegate* unmanaged<nint, int, float*>)NativeLibrary.GetExport(llama, "llama_get_logits_ith");
        DefaultMarker = (delegate* unmanaged<byte*>)NativeLibrary.GetExport(mtmd, "mtmd_default_marker");
    }
}
