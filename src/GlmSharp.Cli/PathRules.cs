using System.CommandLine;

namespace GlmSharp.Cli;

/// <summary>Rules for options and arguments that name files: what must already exist, and where an output can be written.</summary>
internal static class PathRules
{
    public static Option<T> ExistingFile<T>(this Option<T> option) => option.Require(MissingFile);

    public static Option<T> ExistingFolder<T>(this Option<T> option) => option.Require(MissingFolder);

    public static Option<T> ExistingFileOrFolder<T>(this Option<T> option) => option.Require(MissingFileOrFolder);

    public static Option<T> WritableFile<T>(this Option<T> option) => option.Require(UnwritableFile);

    public static Argument<T> ExistingFolder<T>(this Argument<T> argument) => argument.Require(MissingFolder);

    public static Argument<T> ExistingFileOrFolder<T>(this Argument<T> argument) => argument.Require(MissingFileOrFolder);

    public static Argument<T> WritableFile<T>(this Argument<T> argument) => argument.Require(UnwritableFile);

    private static string? MissingFile(string path) =>
        File.Exists(path) ? null : Directory.Exists(path) ? "is a folder, not a file" : "no such file";

    private static string? MissingFolder(string path) =>
        Directory.Exists(path) ? null : File.Exists(path) ? "is a file, not a folder" : "no such folder";

    private static string? MissingFileOrFolder(string path) =>
        File.Exists(path) || Directory.Exists(path) ? null : "no such file or folder";

    /// <summary>An output file: not a folder, and inside a folder that exists (we do not create folders on a typo).</summary>
    private static string? UnwritableFile(string path)
    {
        if (path.Length == 0) return "must not be empty";
        if (Directory.Exists(path)) return "is a folder; give a file name";
        string folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Directory.Exists(folder) ? null : $"folder {folder} does not exist";
    }
}
