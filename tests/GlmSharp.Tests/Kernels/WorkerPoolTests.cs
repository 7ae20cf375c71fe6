using GlmSharp.Kernels.Cpu;

namespace GlmSharp.Tests.Kernels;

public sealed unsafe class WorkerPoolTests
{
    private struct Tally
    {
        public int* Hits;
        public int* ThreadOfItem;
    }

    private static void Count(void* context, int item, int thread)
    {
        var tally = (Tally*)context;
        Interlocked.Increment(ref tally->Hits[item]);
        tally->ThreadOfItem[item] = thread;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 1)]
    [InlineData(2, 7)]
    [InlineData(3, 1000)]
    public void Every_Item_Runs_Exactly_Once_With_A_Thread_Index_In_Range(int threads, int items)
    {
        using var pool = new WorkerPool(threads);
        var hits = new int[items];
        var owners = new int[items];
        for (int round = 0; round < 50; round++)
        {
            Array.Clear(hits);
            fixed (int* h = hits, o = owners)
            {
                var tally = new Tally { Hits = h, ThreadOfItem = o };
                pool.For(items, &Count, &tally);
            }
            Assert.All(hits, count => Assert.Equal(1, count));
            Assert.All(owners, thread => Assert.InRange(thread, 0, threads - 1));
        }
    }

    [Fact]
    public void Callers_On_Several_Threads_Each_Get_All_Their_Items()
    {
        using var pool = new WorkerPool(2);
        var failures = 0;
        Parallel.For(0, 4, _ =>
        {
            var hits = new int[333];
            var owners = new int[333];
            for (int round = 0; round < 100; round++)
            {
                Array.Clear(hits);
                fixed (int* h = hits, o = owners)
                {
                    var tally = new Tally { Hits = h, ThreadOfItem = o };
                    pool.For(hits.Length, &Count, &tally);
                }
                if (hits.Any(count => count != 1)) Interlocked.Increment(ref failures);
            }
        });
        Assert.Equal(0, failures);
    }

    [Fact]
    public void Workers_Asleep_After_A_Pause_Wake_For_The_Next_Operation()
    {
        using var pool = new WorkerPool(2);
        var hits = new int[64];
        var owners = new int[64];
        Thread.Sleep(50); // longer than the spin phase: the worker is asleep now
        fixed (int* h = hits, o = owners)
        {
            var tally = new Tally { Hits = h, ThreadOfItem = o };
            pool.For(hits.Length, &Count, &tally);
        }
        Assert.All(hits, count => Assert.Equal(1, count));
    }

    [Fact]
    public void Zero_Threads_Is_Refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WorkerPool(0));
    }
}
