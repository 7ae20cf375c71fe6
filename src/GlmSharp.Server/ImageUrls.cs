namespace GlmSharp.Server;

/// <summary>
/// Reads the bytes an <c>image_url</c> or <c>video_url</c> names: a <c>data:image/…;base64,</c> (or <c>data:video/…</c>)
/// URL, or a file (a path or a <c>file://</c> URL) inside the folder <c>glm serve --media-folder</c> gave, after every
/// symbolic link on the way is followed. Remote URLs are never fetched: a server that fetched them would reach whatever its network reaches on a
/// client's behalf. Every refusal is a 400 that names the field.
/// </summary>
internal sealed class ImageUrls(string? mediaFolder)
{
    /// <summary>The media folder with its own links followed, so that containment is checked between real paths.</summary>
    private readonly string? _root = mediaFolder is null ? null : RealPath(Path.GetFullPath(mediaFolder));

    /// <param name="mediaType">The data URL's MIME type family, "image" or "video", which also names the part in errors.</param>
    public byte[] Read(MediaPart part, string mediaType)
    {
        string url = part.Url, field = part.Field;
        if (url.StartsWith("data:", StringComparison.OrdinalIgnoreCase)) return DataUrl(url, field, mediaType);
        if (url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
            throw ApiError.Invalid($"{field}: remote {mediaType} URLs are not fetched by this server; send the {mediaType} as a data:{mediaType}/…;base64, URL", field);
        if (_root is null)
            throw ApiError.Invalid($"{field}: {mediaType} files are not read by this server (it has no --media-folder); send the {mediaType} as a data:{mediaType}/…;base64, URL", field);
        string path = url;
        if (url.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !uri.IsFile || !string.IsNullOrEmpty(uri.Host))
                throw ApiError.Invalid($"{field}: '{url}' is not a local file URL (file:///path)", field);
            path = uri.LocalPath;
        }
        else if (url.Contains("://", StringComparison.Ordinal))
            throw ApiError.Invalid($"{field}: only data: URLs and files under the media folder are accepted", field);

        string real;
        try
        {
            real = RealPath(Path.GetFullPath(path, _root));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw ApiError.Invalid($"{field}: '{url}' cannot be resolved ({e.Message})", field);
        }
        if (!real.StartsWith(_root.TrimEnd(Path.DirectorySeparatorChar) + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw ApiError.Invalid($"{field}: '{url}' is outside the media folder", field);
        if (!File.Exists(real)) throw ApiError.Invalid($"{field}: '{url}' is not a file in the media folder", field);
        try
        {
            return File.ReadAllBytes(real);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw ApiError.Invalid($"{field}: '{url}' cannot be read ({e.Message})", field);
        }
    }

    private static byte[] DataUrl(string url, string field, string mediaType)
    {
        int comma = url.IndexOf(',');
        string header = comma < 0 ? "" : url[5..comma];
        if (comma < 0 || !header.StartsWith(mediaType + "/", StringComparison.OrdinalIgnoreCase) || !header.EndsWith(";base64", StringComparison.OrdinalIgnoreCase))
            throw ApiError.Invalid($"{field}: a data URL must be data:{mediaType}/<type>;base64,<data>", field);
        try
        {
            return Convert.FromBase64String(url[(comma + 1)..]);
        }
        catch (FormatException)
        {
            throw ApiError.Invalid($"{field}: the data URL's base64 data is malformed", field);
        }
    }

    /// <summary>
    /// <paramref name="path"/> (absolute) with every symbolic link among its components replaced by what it points to,
    /// as realpath(3) gives it; components that do not exist are kept as they are.
    /// </summary>
    private static string RealPath(string path)
    {
        string real = Path.GetPathRoot(path)!;
        foreach (string part in path[real.Length..].Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            string next = Path.Combine(real, part);
            FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
            real = info.LinkTarget is null ? next : RealPath(info.ResolveLinkTarget(returnFinalTarget: true)!.FullName);
        }
        return real;
    }
}
