using System.CommandLine;
using System.Globalization;
using GlmSharp.Errors;
using GlmSharp.Formats.Safetensors;
using GlmSharp.Tokenizers;
using GlmSharp.Tokenizers.Chat;
using GlmSharp.Training;
using Spectre.Console;

namespace GlmSharp.Cli.Commands;

/// <summary>
/// <c>glm train</c>: trains a glm4 or glm4_moe model from scratch on the prepared corpus (data/train.txt,
/// data/valid.txt), with checkpoints that can be resumed, and exports a Hugging Face folder at the end.
/// </summary>
internal static class TrainCommand
{
    private static readonly Option<string> TrainText = new Option<string>("--train") { Description = "Training text (documents separated by <|endoftext|> lines)", DefaultValueFactory = _ => "data/train.txt" }.ExistingFile();
    private static readonly Option<string> ValidText = new Option<string>("--valid") { Description = "Validation text", DefaultValueFactory = _ => "data/valid.txt" }.ExistingFile();
    private static readonly Option<string?> Tokenizer = new Option<string?>("--tokenizer") { Description = "Folder with tokenizer.json; without it a byte-level BPE is trained on --train" }.ExistingFolder();
    private static readonly Option<int> VocabSize = new Option<int>("--vocab-size") { Description = "Vocabulary size of a newly trained tokenizer", DefaultValueFactory = _ => 6144 }
        .Within(NumericRange.AtLeast(256 + BpeTrainer.GlmSpecialTokens.Count)); // every byte and every special token has an id
    private static readonly Option<string> Arch = new Option<string>("--arch") { Description = "Architecture: glm4 (dense) or glm4_moe (GLM-4.5's experts and NextN layer)", DefaultValueFactory = _ => "glm4" }
        .OneOf(["glm4", "glm4_moe"]);
    private static readonly Option<string?> Size = new Option<string?>("--size")
    {
        Description = $"Model size: {string.Join(", ", Glm4TrainingPresets.Names)} (glm4, default base); {string.Join(", ", Glm4MoeTrainingPresets.Names)} (glm4_moe, default moe-small)",
    }.OneOf([.. Glm4TrainingPresets.Names, .. Glm4MoeTrainingPresets.Names]);
    private static readonly Option<float> MtpWeight = new Option<float>("--mtp-weight") { Description = "glm4_moe: weight λ of the NextN layer's loss", DefaultValueFactory = _ => 0.3f }
        .Within(NumericRange.AtLeast(0));
    private static readonly Option<float> BiasRate = new Option<float>("--bias-rate") { Description = "glm4_moe: step of the routers' balancing bias per optimiser step", DefaultValueFactory = _ => 1e-3f }
        .Within(NumericRange.AtLeast(0));
    private static readonly Option<int> Steps = new Option<int>("--steps") { Description = "Optimiser steps", DefaultValueFactory = _ => 2000 }.Within(NumericRange.AtLeast(1));
    private static readonly Option<int> Batch = new Option<int>("--batch") { Description = "Sequences per step", DefaultValueFactory = _ => 16 }.Within(NumericRange.AtLeast(1));
    private static readonly Option<int> SeqLen = new Option<int>("--seq-len") { Description = "Tokens per sequence", DefaultValueFactory = _ => 256 }.Within(NumericRange.AtLeast(1));
    private static readonly Option<float> LearningRate = new Option<float>("--lr") { Description = "Peak learning rate", DefaultValueFactory = _ => 1e-3f }.Within(NumericRange.Above(0));
    private static readonly Option<float> MinLearningRate = new Option<float>("--min-lr") { Description = "Learning rate at the end of the cosine (at most --lr)", DefaultValueFactory = _ => 1e-4f }
        .Within(NumericRange.AtLeast(0));
    private static readonly Option<int> Warmup = new Option<int>("--warmup") { Description = "Linear warm-up steps", DefaultValueFactory = _ => 100 }.Within(NumericRange.AtLeast(0));
    private static readonly Option<float> WeightDecay = new Option<float>("--weight-decay") { Description = "AdamW decoupled weight decay (matrices only)", DefaultValueFactory = _ => 0.1f }
        .Within(NumericRange.AtLeast(0));
    private static readonly Option<float> Clip = new Option<float>("--clip") { Description = "Global gradient-norm limit (0 = off)", DefaultValueFactory = _ => 1.0f }.Within(NumericRange.AtLeast(0));
    private static readonly Option<ulong> Seed = new Option<ulong>("--seed") { Description = "Seed of initialisation and batch sampling", DefaultValueFactory = _ => 1234UL }.Within(NumericRange.AtLeast(0));
    private static readonly Option<int> EvalInterval = new Option<int>("--eval-interval") { Description = "Validate every N steps (0 = at the end only)", DefaultValueFactory = _ => 200 }
        .Within(NumericRange.AtLeast(0));
    private static readonly Option<int> EvalBatches = new Option<int>("--eval-batches") { Description = "Batches per validation", DefaultValueFactory = _ => 8 }.Within(NumericRange.AtLeast(1));
    private static readonly Option<string?> CheckpointDir = new("--checkpoint-dir") { Description = "Folder for checkpoint.bin" };
    private static readonly Option<int> CheckpointInterval = new Option<int>("--checkpoint-interval") { Description = "Save a checkpoint every N steps", DefaultValueFactory = _ => 200 }
        .Within(NumericRange.AtLeast(1));
    private static readonly Option<bool> Resume = new("--resume") { Description = "Continue from checkpoint.bin in --checkpoint-dir" };
    private static readonly Option<string?> InitFrom = new Option<string?>("--init-from")
    {
        Description = "Start from the weights of a checkpoint.bin, or of a glm4 Hugging Face folder such as models/glm-tiny-chat " +
            "(fresh optimiser and schedule), e.g. for a supervised pass",
    }.ExistingFileOrFolder();
    private static readonly Option<string?> Output = new("--output") { Description = "Export a Hugging Face folder here when training ends" };
    private static readonly Option<bool> Dialogue = new("--dialogue")
    {
        Description = "Supervised pass: --train and --valid are JSONL conversations (scripts/prepare_dialogue.py) rendered with the " +
            "tokenizer's chat template; only assistant turns are scored. Needs --tokenizer, usually with --init-from",
    };
    private static readonly Option<float> MixPretraining = new Option<float>("--mix-pretraining")
    {
        Description = "With --dialogue: this share of each batch's sequences are plain-text windows of --mix-text, every token scored, " +
            "so that the model keeps continuing raw text as well as answering turns",
    }.Within(NumericRange.Closed(0, 1));
    private static readonly Option<string> MixText = new Option<string>("--mix-text")
    {
        Description = "Plain text for --mix-pretraining (documents separated by <|endoftext|> lines)", DefaultValueFactory = _ => "data/train.txt",
    }.ExistingFile();
    private static readonly Dictionary<string, SafetensorsDtype> ExportTypes = new() { ["f32"] = SafetensorsDtype.F32, ["bf16"] = SafetensorsDtype.BF16 };
    private static readonly Option<string> Dtype = new Option<string>("--dtype") { Description = "Exported weight type: f32 or bf16", DefaultValueFactory = _ => "bf16" }
        .OneOf(ExportTypes.Keys);

    public static Command Create()
    {
        var command = new Command("train", "Train a small glm4 or glm4_moe model from scratch on plain text")
        {
            TrainText, ValidText, Tokenizer, VocabSize, Arch, Size, MtpWeight, BiasRate, Steps, Batch, SeqLen, LearningRate, MinLearningRate, Warmup,
            WeightDecay, Clip, Seed, EvalInterval, EvalBatches, CheckpointDir, CheckpointInterval, Resume, InitFrom, Dialogue, MixPretraining, MixText, Output, Dtype,
        };
        command.SetAction((parse, cancellation) => Task.FromResult(Run(parse, cancellation)));
        return command;
    }

    private static int Run(ParseResult parse, CancellationToken cancellation)
    {
        var dtype = ExportTypes[parse.GetValue(Dtype)!];
        string? checkpointDir = parse.GetValue(CheckpointDir);
        if (parse.GetValue(Resume) && checkpointDir is null) throw new GlmException("--resume needs --checkpoint-dir");
        if (parse.GetValue(MinLearningRate) > parse.GetValue(LearningRate))
            throw new GlmException($"--min-lr {parse.GetValue(MinLearningRate)}: must be at most --lr {parse.GetValue(LearningRate)}");
        if (!parse.GetValue(Resume)) CheckSize(parse);
        int plainTextRows = PlainTextRows(parse);
        var (vocabulary, train, valid) = parse.GetValue(Dialogue) ? ReadDialogue(parse) : ReadText(parse);
        AnsiConsole.MarkupLine($"corpus: [bold]{train.Ids.Length:N0}[/] training and [bold]{valid.Ids.Length:N0}[/] validation tokens, vocabulary {vocabulary.Tokens.Count}");
        TokenStream? plainText = null;
        if (plainTextRows > 0)
        {
            plainText = TextCorpus.Tokenize(TextCorpus.ReadDocuments(parse.GetValue(MixText)!), new BpeTokenizer(vocabulary));
            AnsiConsole.MarkupLine($"plain text: [bold]{plainText.Ids.Length:N0}[/] tokens, {plainTextRows} of every {parse.GetValue(Batch)} sequences");
        }

        var options = new TrainingOptions
        {
            Steps = parse.GetValue(Steps), BatchSize = parse.GetValue(Batch), SeqLen = parse.GetValue(SeqLen),
            LearningRate = parse.GetValue(LearningRate), MinLearningRate = parse.GetValue(MinLearningRate),
            WarmupSteps = parse.GetValue(Warmup), GradientClip = parse.GetValue(Clip), Seed = parse.GetValue(Seed),
            Optimizer = new AdamWOptions { WeightDecay = parse.GetValue(WeightDecay) },
            EvalInterval = parse.GetValue(EvalInterval), EvalBatches = parse.GetValue(EvalBatches),
            CheckpointDirectory = parse.GetValue(CheckpointDir), CheckpointInterval = parse.GetValue(CheckpointInterval),
            PlainTextRows = plainTextRows,
        };
        var trainer = CreateTrainer(parse, options, vocabulary.Tokens.Count);
        AnsiConsole.MarkupLine($"model: {Markup.Escape(Describe(trainer.Model))}; {options.BatchSize}×{options.SeqLen} tokens per step, starting at step {trainer.Step}");

        float validationLoss = RunWithProgress(trainer, train, valid, plainText, cancellation);
        AnsiConsole.MarkupLine($"validation loss [bold]{validationLoss:F4}[/], perplexity [bold]{Math.Exp(validationLoss):F2}[/]");
        if (parse.GetValue(Output) is { } output)
        {
            switch (trainer.Model)
            {
                case Glm4MoeTrainingModel moe: HfCheckpointExporter.Export(moe.Weights, vocabulary, output, dtype); break;
                case Glm4TrainingModel dense: HfCheckpointExporter.Export(dense.Weights, vocabulary, output, dtype); break;
            }
            AnsiConsole.MarkupLine($"exported to [bold]{Markup.Escape(output)}[/]");
        }
        return 0;
    }

    /// <summary>
    /// How many sequences of a batch --mix-pretraining turns into plain text: the nearest whole number, which must not be
    /// 0 for a share above 0, so that a run never silently trains without the mix it asked for.
    /// </summary>
    private static int PlainTextRows(ParseResult parse)
    {
        float share = parse.GetValue(MixPretraining);
        if (share == 0) return 0;
        if (!parse.GetValue(Dialogue)) throw new GlmException("--mix-pretraining: only with --dialogue (a plain-text run is all plain text already)");
        int batch = parse.GetValue(Batch);
        int rows = (int)Math.Round(share * batch, MidpointRounding.AwayFromZero);
        if (rows == 0)
            throw new GlmException(string.Create(CultureInfo.InvariantCulture,
                $"--mix-pretraining {share}: {share} × {batch} sequences rounds to none; give at least {0.5 / batch}"));
        return rows;
    }

    /// <summary>A --size that belongs to --arch, and a shape that validates.</summary>
    private static void CheckSize(ParseResult parse)
    {
        bool moe = parse.GetValue(Arch) == "glm4_moe";
        string size = SizeOf(parse);
        var names = moe ? Glm4MoeTrainingPresets.Names : Glm4TrainingPresets.Names;
        if (!names.Contains(size))
            throw new GlmException($"--size {size} is not a {parse.GetValue(Arch)} size; choose one of {string.Join(", ", names)}");
        if (moe) Glm4MoeTrainingPresets.For(size, vocabSize: 256).Validate();
        else Glm4TrainingPresets.For(size, vocabSize: 256).Validate();
    }

    private static string SizeOf(ParseResult parse) => parse.GetValue(Size) ?? (parse.GetValue(Arch) == "glm4_moe" ? "moe-small" : "base");

    private static string Describe(ITrainingModel model) => model switch
    {
        Glm4MoeTrainingModel { Weights.Shape: var s } =>
            $"glm4_moe, {model.Parameters.Count:N0} parameters ({s.NumLayers} layers + {s.NextNLayers} NextN, hidden {s.HiddenSize}, " +
            $"{s.Attention.NumHeads} heads / {s.Attention.NumKvHeads} KV, {s.FirstDenseLayers} dense (MLP {s.Attention.IntermediateSize}), " +
            $"{s.Experts} experts of {s.ExpertIntermediateSize}, top {s.ExpertsPerToken}, {s.SharedExperts} shared)",
        Glm4TrainingModel { Weights.Shape: var s } =>
            $"glm4, {s.ParameterCount:N0} parameters ({s.NumLayers} layers, hidden {s.HiddenSize}, {s.NumHeads} heads / {s.NumKvHeads} KV, " +
            $"head_dim {s.HeadDim}, rotary {s.RotaryDims}, MLP {s.IntermediateSize})",
        _ => model.Architecture,
    };

    private static (TokenizerVocabulary, TokenStream, TokenStream) ReadText(ParseResult parse)
    {
        var trainDocuments = TextCorpus.ReadDocuments(parse.GetValue(TrainText)!);
        var validDocuments = TextCorpus.ReadDocuments(parse.GetValue(ValidText)!);
        var vocabulary = LoadOrTrainTokenizer(parse, trainDocuments);
        var tokenizer = new BpeTokenizer(vocabulary);
        return (vocabulary, TextCorpus.Tokenize(trainDocuments, tokenizer), TextCorpus.Tokenize(validDocuments, tokenizer));
    }

    private static (TokenizerVocabulary, TokenStream, TokenStream) ReadDialogue(ParseResult parse)
    {
        string folder = parse.GetValue(Tokenizer) ?? throw new GlmException("--dialogue needs --tokenizer (the pretrained model's folder), so that token ids match");
        var vocabulary = HfTokenizerLoader.LoadDirectory(folder);
        var tokenizer = new BpeTokenizer(vocabulary);
        var template = ChatTemplates.For(vocabulary.ChatTemplate);
        var train = DialogueCorpus.Tokenize(DialogueCorpus.Read(parse.GetValue(TrainText)!), tokenizer, template);
        var valid = DialogueCorpus.Tokenize(DialogueCorpus.Read(parse.GetValue(ValidText)!), tokenizer, template);
        return (vocabulary, train, valid);
    }

    /// <summary>
    /// --tokenizer wins; a resumed run reuses the tokenizer saved beside its checkpoint; otherwise a new one is trained
    /// and saved there, so that a resumed run sees the same token ids.
    /// </summary>
    private static TokenizerVocabulary LoadOrTrainTokenizer(ParseResult parse, IReadOnlyList<string> documents)
    {
        if (parse.GetValue(Tokenizer) is { } folder) return HfTokenizerLoader.LoadDirectory(folder);
        string? checkpointDir = parse.GetValue(CheckpointDir);
        if (parse.GetValue(Resume)) return HfTokenizerLoader.LoadDirectory(checkpointDir!);
        AnsiConsole.MarkupLine($"training a {parse.GetValue(VocabSize)}-token byte-level BPE on {documents.Count:N0} documents…");
        var vocabulary = BpeTrainer.Train(documents, parse.GetValue(VocabSize), chatTemplate: GlmJinjaTemplates.Glm45);
        if (checkpointDir is not null) HfTokenizerWriter.WriteDirectory(vocabulary, checkpointDir);
        return vocabulary;
    }

    private static ModelTrainer CreateTrainer(ParseResult parse, TrainingOptions options, int vocabSize)
    {
        if (parse.GetValue(Resume))
        {
            string path = Path.Combine(options.CheckpointDirectory!, ModelTrainer.CheckpointFileName);
            var checkpoint = TrainingCheckpoint.Load(path);
            var resumed = new ModelTrainer(ModelOf(parse, checkpoint, path, options), options);
            resumed.Resume(checkpoint);
            return resumed;
        }
        string? initFrom = parse.GetValue(InitFrom);
        if (initFrom is not null && Directory.Exists(initFrom))
        {
            var weights = HfCheckpointImporter.LoadGlm4(initFrom);
            if (weights.Shape.VocabSize != vocabSize)
                throw new GlmException($"{initFrom}: the model's vocab_size {weights.Shape.VocabSize} differs from the tokenizer's {vocabSize}");
            return new ModelTrainer(new Glm4TrainingModel(weights, options.BatchSize, options.SeqLen), options);
        }
        if (initFrom is not null)
        {
            var start = TrainingCheckpoint.Load(initFrom);
            var model = ModelOf(parse, start, initFrom, options);
            if (model.VocabSize != vocabSize)
                throw new GlmException($"{initFrom}: the checkpoint's vocab_size {model.VocabSize} differs from the tokenizer's {vocabSize}");
            if (start.Values.Length != model.Parameters.Count)
                throw new GlmException($"{initFrom}: the checkpoint holds {start.Values.Length} parameters, its shape {model.Parameters.Count}");
            start.Values.CopyTo(model.Parameters.Values, 0);
            return new ModelTrainer(model, options);
        }
        ITrainingModel fresh;
        if (parse.GetValue(Arch) == "glm4_moe")
        {
            var weights = new Glm4MoeTrainingWeights(Glm4MoeTrainingPresets.For(SizeOf(parse), vocabSize));
            weights.Initialize(options.Seed);
            fresh = new Glm4MoeTrainingModel(weights, options.BatchSize, options.SeqLen, parse.GetValue(MtpWeight), parse.GetValue(BiasRate));
        }
        else
        {
            var weights = new Glm4TrainingWeights(Glm4TrainingPresets.For(SizeOf(parse), vocabSize));
            weights.Initialize(options.Seed);
            fresh = new Glm4TrainingModel(weights, options.BatchSize, options.SeqLen);
        }
        return new ModelTrainer(fresh, options);
    }

    /// <summary>A model of the checkpoint's architecture and shape, its values not yet copied in.</summary>
    private static ITrainingModel ModelOf(ParseResult parse, TrainingCheckpoint checkpoint, string path, TrainingOptions options) => checkpoint.Architecture switch
    {
        "glm4" => new Glm4TrainingModel(new Glm4TrainingWeights(checkpoint.Shape<Glm4TrainingShape>(path)), options.BatchSize, options.SeqLen),
        "glm4_moe" => new Glm4MoeTrainingModel(new Glm4MoeTrainingWeights(checkpoint.Shape<Glm4MoeTrainingShape>(path)), options.BatchSize, options.SeqLen,
            parse.GetValue(MtpWeight), parse.GetValue(BiasRate)),
        var other => throw new ModelFormatException($"{path}: training checkpoint architecture '{other}' is not glm4 or glm4_moe"),
    };

    private static float RunWithProgress(ModelTrainer trainer, TokenStream train, TokenStream valid, TokenStream? plainText, CancellationToken cancellation)
    {
        float lastValidation = float.NaN;
        string Describe(TrainingProgress p)
        {
            if (p.ValidationLoss is { } v) lastValidation = v;
            string validation = float.IsNaN(lastValidation) ? "" : $" val {lastValidation:F3}";
            return $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F3}{validation} | lr {p.LearningRate:E1} | {p.TokensPerSecond:F0} tok/s | ETA {p.Remaining:hh\\:mm\\:ss}";
        }

        if (!AnsiConsole.Profile.Capabilities.Interactive)
            return trainer.Run(train, valid, p =>
            {
                if (p.Step % 10 == 0 || p.ValidationLoss is not null || p.Step == p.TotalSteps) Console.WriteLine(Describe(p));
            }, cancellation, plainText);

        float result = float.NaN;
        AnsiConsole.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn())
            .Start(context =>
            {
                var task = context.AddTask("starting", maxValue: trainer.Options.Steps);
                task.Value = trainer.Step;
                result = trainer.Run(train, valid, p =>
                {
                    task.Value = p.Step;
                    task.Description = Markup.Escape(Describe(p));
                }, cancellation, plainText);
            });
        return result;
    }
}
