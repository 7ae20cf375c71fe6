using GlmSharp.Errors;
using GlmSharp.Training;

namespace GlmSharp.Tests.Training;

public class TrainerTests
{
    private static TrainingOptions Options(int steps, string? checkpoints = null) => new()
    {
        Steps = steps, BatchSize = 8, SeqLen = 32, LearningRate = 3e-3f, MinLearningRate = 3e-4f, WarmupSteps = 20,
        Seed = 7, EvalBatches = 4, CheckpointDirectory = checkpoints, CheckpointInterval = 1000,
    };

    private static ModelTrainer NewTrainer(TrainingOptions options, bool tied = true)
    {
        var weights = new Glm4TrainingWeights(TinyCorpus.Shape(tied));
        weights.Initialize(options.Seed);
        return new ModelTrainer(weights, options);
    }

    [Fact]
    public void Tiny_Model_Learns_A_Fixed_Text_To_Below_One_Nat_In_300_Steps()
    {
        // ln 256 = 5.55 nats is chance and a unigram model of English letters needs about 2.9 nats;
        // below 1.0 the model must have learnt the text's words and their order.
        var trainer = NewTrainer(Options(300), tied: false);
        var text = TinyCorpus.Stream();
        float before = trainer.Evaluate(text);
        float after = trainer.Run(text, text);
        Assert.InRange(before, 5.0f, 6.0f);
        Assert.True(after < 1.0f, $"validation loss {after:F3} after 300 steps is not below 1.0 (started at {before:F3})");
    }

    [Fact]
    public void Resuming_From_A_Checkpoint_Continues_Bit_For_Bit()
    {
        string folder = Directory.CreateTempSubdirectory("glm-train-").FullName;
        try
        {
            var text = TinyCorpus.Stream();
            var straight = NewTrainer(Options(12));
            straight.Run(text, null);

            var first = NewTrainer(Options(6, folder));
            first.Run(text, null);
            var checkpoint = TrainingCheckpoint.Load(Path.Combine(folder, ModelTrainer.CheckpointFileName));
            Assert.Equal(6, checkpoint.Step);
            var resumed = NewTrainer(Options(12));
            Array.Clear(resumed.Parameters.Values);
            resumed.Resume(checkpoint);
            resumed.Run(text, null);

            Assert.Equal(12, resumed.Step);
            Assert.Equal(straight.Parameters.Values, resumed.Parameters.Values);
            Assert.Equal(straight.Optimizer.SecondMoment, resumed.Optimizer.SecondMoment);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static ModelTrainer NewMoeTrainer(TrainingOptions options)
    {
        var tiny = MoeModelGradientTests.Tiny(shared: true, normalize: true, nextN: true);
        var weights = new Glm4MoeTrainingWeights(tiny with { Attention = TinyCorpus.Shape(tied: true) with { NumLayers = 2 } });
        weights.Initialize(options.Seed);
        return new ModelTrainer(new Glm4MoeTrainingModel(weights, options.BatchSize, options.SeqLen), options);
    }

    [Fact]
    public void Tiny_Moe_Model_Learns_A_Fixed_Text_And_Balances_Its_Experts()
    {
        var trainer = NewMoeTrainer(Options(300));
        var model = (Glm4MoeTrainingModel)trainer.Model;
        var text = TinyCorpus.Stream();
        float before = trainer.Evaluate(text);
        float after = trainer.Run(text, text);
        Assert.InRange(before, 5.0f, 6.0f);
        Assert.True(after < 1.5f, $"validation loss {after:F3} after 300 steps is not below 1.5 (started at {before:F3})");
        Assert.True(model.MtpLoss < before, $"the NextN layer's loss {model.MtpLoss:F3} did not fall below the start {before:F3}");
        // Balancing keeps every expert in use: with 4 experts, 2 per row, the mean load is half the rows.
        var load = model.ExpertsOf(1)!.Load.ToArray();
        Assert.True(load.Min() > 0, $"an expert went unused: loads {string.Join(", ", load)}");
        var bias = model.Weights.Layers[1].Moe!.SelectionBias.Of(model.Parameters.Values).ToArray();
        Assert.Contains(bias, b => b != 0);
    }

    [Fact]
    public void Resuming_A_Moe_Model_Continues_Bit_For_Bit_Including_Router_Biases()
    {
        string folder = Directory.CreateTempSubdirectory("glm-train-moe-").FullName;
        try
        {
            var text = TinyCorpus.Stream();
            var straight = NewMoeTrainer(Options(8));
            straight.Run(text, null);

            NewMoeTrainer(Options(4, folder)).Run(text, null);
            var checkpoint = TrainingCheckpoint.Load(Path.Combine(folder, ModelTrainer.CheckpointFileName));
            Assert.Equal("glm4_moe", checkpoint.Architecture);
            var resumed = NewMoeTrainer(Options(8));
            Array.Clear(resumed.Parameters.Values);
            resumed.Resume(checkpoint);
            resumed.Run(text, null);
            Assert.Equal(straight.Parameters.Values, resumed.Parameters.Values);

            var dense = NewTrainer(Options(1));
            var e = Assert.Throws<GlmException>(() => dense.Resume(checkpoint));
            Assert.Contains("does not match", e.Message);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void Checkpoint_With_Wrong_Magic_Is_Rejected_Naming_The_Field()
    {
        string path = Path.GetTempFileName();
        try
        {
            File.WriteAllBytes(path, "NOTACKPTxxxxxxxxxxxx"u8.ToArray());
            var e = Assert.Throws<ModelFormatException>(() => TrainingCheckpoint.Load(path));
            Assert.Contains("magic", e.Message);
            Assert.Contains(path, e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Truncated_Checkpoint_Is_Rejected_With_Expected_And_Found_Length()
    {
        string path = Path.GetTempFileName();
        try
        {
            var trainer = NewTrainer(Options(1));
            trainer.SaveCheckpoint(path);
            var bytes = File.ReadAllBytes(path);
            File.WriteAllBytes(path, bytes[..^4]);
            var e = Assert.Throws<ModelFormatException>(() => TrainingCheckpoint.Load(path));
            Assert.Contains("file length", e.Message);
            Assert.Contains(bytes.Length.ToString(), e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Checkpoint_Of_Another_Shape_Cannot_Be_Restored()
    {
        string path = Path.GetTempFileName();
        try
        {
            NewTrainer(Options(1), tied: true).SaveCheckpoint(path);
            var other = NewTrainer(Options(1), tied: false);
            var e = Assert.Throws<GlmException>(() => other.Resume(TrainingCheckpoint.Load(path)));
            Assert.Contains("does not match", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Sampler_Gives_The_Same_Batch_For_The_Same_Step_And_Targets_Are_The_Next_Tokens()
    {
        var stream = new TokenStream(Enumerable.Range(0, 100).ToArray(), Enumerable.Range(0, 100).Select(i => i % 2 == 0).ToArray());
        var sampler = new TokenBatchSampler(stream, batchSize: 3, seqLen: 5, seed: 1);
        int[] inputsA = new int[15], targetsA = new int[15], inputsB = new int[15], targetsB = new int[15];
        sampler.Fill(42, inputsA, targetsA);
        sampler.Fill(42, inputsB, targetsB);
        Assert.Equal(inputsA, inputsB);
        Assert.Equal(targetsA, targetsB);
        for (int i = 0; i < 15; i++)
            Assert.Equal((inputsA[i] + 1) % 2 == 0 ? inputsA[i] + 1 : -1, targetsA[i]);
        sampler.Fill(43, inputsB, targetsB);
        Assert.NotEqual(inputsA, inputsB);
    }

    [Fact]
    public void Sampler_Takes_The_First_Rows_Of_Each_Batch_From_The_Plain_Text_With_Every_Token_Scored()
    {
        var dialogue = new TokenStream(Enumerable.Range(0, 100).ToArray(), Enumerable.Range(0, 100).Select(i => i % 2 == 0).ToArray());
        var plain = new TokenStream(Enumerable.Range(1000, 100).ToArray());
        var sampler = new TokenBatchSampler(dialogue, batchSize: 4, seqLen: 5, seed: 1, plain, plainTextRows: 2);
        int[] inputs = new int[20], targets = new int[20];
        for (long step = 0; step < 20; step++)
        {
            sampler.Fill(step, inputs, targets);
            for (int i = 0; i < 10; i++)
            {
                Assert.InRange(inputs[i], 1000, 1098);
                Assert.Equal(inputs[i] + 1, targets[i]);
            }
            for (int i = 10; i < 20; i++)
            {
                Assert.InRange(inputs[i], 0, 98);
                Assert.Equal((inputs[i] + 1) % 2 == 0 ? inputs[i] + 1 : -1, targets[i]);
            }
        }
    }

    [Fact]
    public void Sampler_Without_Plain_Text_Rows_Draws_The_Batches_It_Drew_Before_The_Mix_Existed()
    {
        // Windows of a sampler given plain text but no rows for it must not move: the shipped models' runs depend on them.
        var stream = new TokenStream(Enumerable.Range(0, 100).ToArray());
        var plain = new TokenStream(Enumerable.Range(1000, 100).ToArray());
        var alone = new TokenBatchSampler(stream, batchSize: 3, seqLen: 5, seed: 9);
        var unmixed = new TokenBatchSampler(stream, batchSize: 3, seqLen: 5, seed: 9, plain, plainTextRows: 0);
        int[] inputsA = new int[15], targetsA = new int[15], inputsB = new int[15], targetsB = new int[15];
        alone.Fill(3, inputsA, targetsA);
        unmixed.Fill(3, inputsB, targetsB);
        Assert.Equal(inputsA, inputsB);

        // The first window's start is the first draw of the step's generator over the 95 possible starts.
        var random = TrainingRandom.ForStream(9, 2, 3);
        Assert.Equal(random.NextInt(95), inputsA[0]);
    }

    [Theory]
    [InlineData(5, "5 plain-text rows do not fit a batch of 4")]
    [InlineData(-1, "-1 plain-text rows do not fit a batch of 4")]
    public void Sampler_Rejects_More_Plain_Text_Rows_Than_A_Batch(int rows, string message)
    {
        var stream = new TokenStream(Enumerable.Range(0, 100).ToArray());
        var e = Assert.Throws<GlmException>(() => new TokenBatchSampler(stream, batchSize: 4, seqLen: 5, seed: 1, stream, rows));
        Assert.Equal(message, e.Message);
    }

    [Fact]
    public void Sampler_Asked_For_Plain_Text_Rows_Without_Plain_Text_Says_So()
    {
        var stream = new TokenStream(Enumerable.Range(0, 100).ToArray());
        var e = Assert.Throws<GlmException>(() => new TokenBatchSampler(stream, batchSize: 4, seqLen: 5, seed: 1, plainText: null, plainTextRows: 2));
        Assert.Contains("no plain text given", e.Message);
        var tooShort = Assert.Throws<GlmException>(() => new TokenBatchSampler(stream, 4, 5, 1, new TokenStream([1, 2, 3]), 2));
        Assert.Equal("the plain text holds 3 tokens, fewer than one window of 6", tooShort.Message);
    }

    [Fact]
    public void Token_Outside_The_Vocabulary_Is_Rejected_With_Its_Position()
    {
        var trainer = NewTrainer(Options(1));
        var e = Assert.Throws<ContextLimitException>(() => trainer.Run(new TokenStream([1, 2, 300, .. new int[40]]), null));
        Assert.Contains("300", e.Message);
        Assert.Contains("position 2", e.Message);
    }

    [Fact]
    public void Shape_With_Heads_Not_A_Multiple_Of_Kv_Heads_Is_Rejected()
    {
        var shape = TinyCorpus.Shape() with { NumHeads = 3 };
        var e = Assert.Throws<GlmException>(() => new Glm4TrainingWeights(shape));
        Assert.Contains("num_key_value_heads", e.Message);
    }
}
