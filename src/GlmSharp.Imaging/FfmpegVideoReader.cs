using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using GlmSharp.Vision;

namespace GlmSharp.Imaging;

/// <summary>
/// Video containers Skia cannot read (MP4, WebM, MKV, AVI, …), through ffmpeg run as a child process: <c>ffprobe</c>
/// gives the first video stream's size, frame rate, frame count and duration; <c>ffmpeg</c> then streams every frame as
/// raw RGBA, of which the sampled ones are kept. Frames are read as stored (no rotation from the container's metadata),
/// as transformers' decoders read them.
/// </summary>
public sealed class FfmpegVideoReader(string? toolFolder = null)
{
    private const string Install = "install ffmpeg (Debian: apt-get install ffmpeg) or give the video as an animated GIF or WebP";

    public VideoFrames Read(string path)
    {
        var probe = Probe(path);
        int[] wanted = VideoFrameSampling.Indices(probe.Frames, probe.Fps, probe.Duration, path);
        var keep = wanted.ToHashSet();
        var frames = new Dictionary<int, RgbaImage>();
        int frameBytes = checked(probe.Width * probe.Height * 4), last = wanted.Max();

        using var process = Start("ffmpeg", path, ["-v", "error", "-nostdin", "-noautorotate", "-i", path, "-map", "0:v:0", "-f", "rawvideo", "-pix_fmt", "rgba", "pipe:1"]);
        var errors = process.StandardError.ReadToEndAsync();
        var output = process.StandardOutput.BaseStream;
        int index = 0;
        for (; index <= last; index++)
        {
            var buffer = new byte[frameBytes];
            if (!Fill(output, buffer)) break;
            if (keep.Contains(index)) frames[index] = new RgbaImage(probe.Width, probe.Height, buffer);
        }
        // Frames after the last sampled one are not needed: stop ffmpeg rather than read them.
        if (index > last && !process.HasExited) process.Kill();
        process.WaitForExit();
        if (frames.Count < keep.Count)
        {
            string reason = FirstLine(errors.Result);
            throw new ImageInputException($"{path}: ffmpeg gave {index} frames, the sampled frame {wanted.First(i => !frames.ContainsKey(i))} is missing{(reason.Length > 0 ? $" ({reason})" : "")}");
        }
        return new VideoFrames([.. wanted.Select(i => frames[i])], wanted, probe.Fps, path);
    }

    private sealed record StreamInfo(int Width, int Height, double Fps, int Frames, double? Duration);

    private StreamInfo Probe(string path)
    {
        using var process = Start("ffprobe", path, ["-v", "error", "-select_streams", "v:0", "-count_packets",
            "-show_entries", "stream=width,height,avg_frame_rate,nb_read_packets:format=duration", "-of", "default=noprint_wrappers=1", path]);
        var errors = process.StandardError.ReadToEndAsync();
        string text = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new ImageInputException($"{path}: ffprobe cannot read the video ({FirstLine(errors.Result)})");
        var fields = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(line => line.Split('=', 2)).Where(kv => kv.Length == 2).GroupBy(kv => kv[0]).ToDictionary(g => g.Key, g => g.First()[1]);
        if (!fields.ContainsKey("width")) throw new ImageInputException($"{path}: ffprobe finds no video stream in the file");
        int width = Positive("width"), height = Positive("height"), frames = Positive("nb_read_packets");
        double fps = Rate(fields.GetValueOrDefault("avg_frame_rate"))
            ?? throw new ImageInputException($"{path}: ffprobe gives no frame rate for the video stream");
        double? duration = double.TryParse(fields.GetValueOrDefault("duration"), NumberStyles.Float, CultureInfo.InvariantCulture, out double d) && d > 0 ? d : null;
        return new StreamInfo(width, height, fps, frames, duration);

        int Positive(string key) => int.TryParse(fields.GetValueOrDefault(key), NumberStyles.None, CultureInfo.InvariantCulture, out int v) && v > 0
            ? v : throw new ImageInputException($"{path}: ffprobe gives no usable {key} for the video stream ('{fields.GetValueOrDefault(key)}')");
    }

    /// <summary>ffprobe's "num/den" rate; "0/0" means unknown.</summary>
    private static double? Rate(string? text)
    {
        var parts = text?.Split('/');
        if (parts is not { Length: 2 }
            || !double.TryParse(parts[0], NumberStyles.Float, CultureInfo.InvariantCulture, out double num)
            || !double.TryParse(parts[1], NumberStyles.Float, CultureInfo.InvariantCulture, out double den) || !(num > 0) || !(den > 0)) return null;
        return num / den;
    }

    private Process Start(string tool, string video, IReadOnlyList<string> arguments)
    {
        string program = toolFolder is null ? tool : Path.Combine(toolFolder, tool);
        if (toolFolder is not null && !File.Exists(program))
            throw new ImageInputException($"{video}: reading this video needs {tool}, not found in {toolFolder}; {Install}");
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        try
        {
            return Process.Start(start) ?? throw new ImageInputException($"{video}: {tool} did not start; {Install}");
        }
        catch (Win32Exception)
        {
            throw new ImageInputException($"{video}: reading this video needs {tool}, which is not on PATH; {Install}");
        }
    }

    private static bool Fill(Stream stream, byte[] buffer)
    {
        int filled = 0;
        while (filled < buffer.Length)
        {
            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0) return false;
            filled += read;
        }
        return true;
    }

    private static string FirstLine(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "";
}
