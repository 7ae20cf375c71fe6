using System.CommandLine;
using System.Net;
using GlmSharp.Models;
using GlmSharp.Server;
using GlmSharp.Serving;
using Microsoft.Extensions.Hosting;

namespace GlmSharp.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var cacheType = CommonOptions.CacheType();
        var host = new Option<string>("--host") { Description = "Address to listen on; anything but loopback wants --api-key", DefaultValueFactory = _ => "127.0.0.1" };
        host.Validators.Add(result =>
        {
            if (!IPAddress.TryParse(result.GetValueOrDefault<string>(), out _)) result.AddError($"--host '{result.GetValueOrDefault<string>()}' is not an IP address");
        });
        var port = new Option<int>("--port") { Description = "TCP port", DefaultValueFactory = _ => 8080 }.Within(NumericRange.Closed(0, 65535));
        var apiKey = new Option<string?>("--api-key") { Description = "Require 'Authorization: Bearer KEY' on /v1 requests" }.NotEmpty();
        var parallel = new Option<int>("--parallel") { Description = "Requests decoded together (more wait in a queue)", DefaultValueFactory = _ => 8 }.Within(NumericRange.Closed(1, 256));
        var context = new Option<int>("--context") { Description = "Most tokens one request may hold, prompt and reply", DefaultValueFactory = _ => 4096 }.Within(NumericRange.AtLeast(2));
        var noPrefixCache = new Option<bool>("--no-prefix-cache") { Description = "Compute every prompt in full instead of reusing the KV of finished requests that start the same way" };
        var kvBudget = new Option<int?>("--kv-budget") { Description = "MB of KV cache all requests share (default: room for --parallel full contexts)" }.Within(NumericRange.AtLeast(1));
        var mmproj = ImageOptions.Mmproj();
        var mediaFolder = new Option<string?>("--media-folder")
        {
            Description = "Folder whose image files requests may name in image_url (a path or file:// URL); without it only data: URLs are read",
        }.ExistingFolder();
        var command = new Command("serve", "Serve the model over an OpenAI-compatible HTTP API with continuous batching")
            { model, cacheType, host, port, apiKey, parallel, context, kvBudget, noPrefixCache, mmproj, mediaFolder };
        command.SetAction(async (parse, cancellation) =>
        {
            string address = parse.GetValue(host)!;
            var ip = IPAddress.Parse(address);
            using var loaded = ModelLoader.Load(DefaultModel.Resolve(parse.GetValue(model)));
            int contextLength = Math.Min(parse.GetValue(context), loaded.Config.MaxPositions);
            int sequences = parse.GetValue(parallel);
            var cache = CommonOptions.ParseCacheType(parse.GetValue(cacheType)!);
            int positions = parse.GetValue(kvBudget) is { } megabytes
                ? (int)Math.Min(int.MaxValue, (long)Kernels.Paging.KvBlockPool.BlocksFor(megabytes * (1L << 20), loaded.Model.CacheLayout, CausalLm.DefaultBlockPositions, cache) * CausalLm.DefaultBlockPositions)
                : sequences * contextLength;
            using var batcher = new ContinuousBatcher(loaded, new BatcherOptions
            {
                MaxSequences = sequences, ContextLength = contextLength, CachePositions = positions, CacheType = cache, StepTokens = Math.Max(256, sequences),
                PrefixCacheEntries = parse.GetValue(noPrefixCache) ? 0 : new BatcherOptions().PrefixCacheEntries,
            });
            using var images = parse.GetValue(mmproj) is not null || Vision.ImageEncoder.HasTowerInFolder(loaded.Architecture)
                ? Vision.ImageEncoder.Open(loaded, parse.GetValue(mmproj))
                : null;
            var options = new ServerOptions
            {
                Host = address, Port = parse.GetValue(port), ApiKey = parse.GetValue(apiKey), ModelName = Path.GetFileName(loaded.Path.TrimEnd('/')),
                MediaFolder = parse.GetValue(mediaFolder),
            };
            if (!IPAddress.IsLoopback(ip) && options.ApiKey is null)
                Console.Error.WriteLine($"warning: listening on {address} without --api-key: anyone who can reach this port can use the model");
            await using var app = GlmServer.Create(loaded, batcher, options, images);
            await app.StartAsync(cancellation);
            Console.Error.WriteLine($"serving {options.ModelName} on http://{address}:{options.Port} ({sequences} parallel, context {contextLength}, KV cache {positions} positions)");
            await app.WaitForShutdownAsync(cancellation);
            return 0;
        });
        return command;
    }
}
