using System.Diagnostics;

namespace GlmSharp.Kernels.Cpu;

/// <summary>
/// Long-lived worker threads that run the items of one operation at a time, the calling thread taking part.
/// Items are claimed dynamically, so a worker descheduled by the OS delays nothing: the others take its share.
/// Idle workers spin briefly (the next operation of a forward pass usually follows within microseconds) and
/// then sleep. Starting an operation allocates nothing: the body is a function pointer and its arguments live
/// on the caller's stack, which stays valid because <see cref="For"/> returns only when every item has run.
/// </summary>
public sealed unsafe class WorkerPool : IDisposable
{
    /// <summary>How long an idle worker keeps polling before it sleeps.</summary>
    private static readonly long SpinTicks = Stopwatch.Frequency / 5_000; // 200 µs

    private const int IndexBits = 20;
    private const long IndexMask = (1L << IndexBits) - 1;
    private const int MaxItems = (1 << IndexBits) - 1;
    private const long GenerationMask = (1L << (64 - 2 * IndexBits - 1)) - 1;

    private readonly Thread[] _workers;
    private readonly Lock _callerLock = new();
    private readonly object _sleepGate = new();

    // One word says which operation is current, how many items it has and the next unclaimed one:
    // generation (23 bits) | count (20) | next (20). A worker may claim an item only by swapping the exact
    // word it read, so it cannot run an item of one operation with the body of another (short of sleeping
    // through 2²³ operations between its read and its swap).
    private long _claim;
    private delegate*<void*, int, int, void> _body;
    private void* _context;
    private int _pending;
    private int _sleepers;
    private volatile bool _disposed;

    /// <summary>Threads that compute, the caller included.</summary>
    public int Threads { get; }

    public WorkerPool(int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        Threads = threads;
        _workers = new Thread[threads - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            int index = i + 1;
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"glm-cpu-{index}" };
            _workers[i].Start();
        }
    }

    /// <summary>
    /// Runs <c>body(context, item, thread)</c> for every item in [0, count) and returns when all have finished.
    /// <c>thread</c> is in [0, Threads) and unique among items running at the same moment, so it can index
    /// per-thread scratch. Calls from different threads are serialised; a body must not call For itself.
    /// </summary>
    public void For(int count, delegate*<void*, int, int, void> body, void* context)
    {
        if (count <= 0) return;
        if (count > MaxItems) throw new ArgumentOutOfRangeException(nameof(count), count, $"at most {MaxItems} items per operation");
        lock (_callerLock)
        {
            if (count == 1 || _workers.Length == 0)
            {
                for (int i = 0; i < count; i++) body(context, i, 0);
                return;
            }
            _body = body;
            _context = context;
            _pending = count;
            long generation = ((_claim >>> (2 * IndexBits)) + 1) & GenerationMask;
            Interlocked.Exchange(ref _claim, (generation << (2 * IndexBits)) | ((long)count << IndexBits));
            if (Volatile.Read(ref _sleepers) > 0)
                lock (_sleepGate) Monitor.PulseAll(_sleepGate);

            RunItems(0);
            var spinner = new SpinWait();
            while (Volatile.Read(ref _pending) > 0) spinner.SpinOnce(sleep1Threshold: -1);
        }
    }

    private static bool HasWork(long claim) => (claim & IndexMask) < ((claim >>> IndexBits) & IndexMask);

    private void RunItems(int thread)
    {
        while (true)
        {
            long claim = Volatile.Read(ref _claim);
            if (!HasWork(claim)) return;
            var body = _body;
            void* context = _context;
            if (Interlocked.CompareExchange(ref _claim, claim + 1, claim) != claim) continue;
            body(context, (int)(claim & IndexMask), thread);
            Interlocked.Decrement(ref _pending);
        }
    }

    private void WorkerLoop(int thread)
    {
        while (!_disposed)
        {
            long idleSince = Stopwatch.GetTimestamp();
            while (!HasWork(Volatile.Read(ref _claim)) && !_disposed)
            {
                if (Stopwatch.GetTimestamp() - idleSince < SpinTicks)
                {
                    Thread.SpinWait(16);
                    continue;
                }
                lock (_sleepGate)
                {
                    Interlocked.Increment(ref _sleepers);
                    while (!HasWork(Volatile.Read(ref _claim)) && !_disposed) Monitor.Wait(_sleepGate);
                    Interlocked.Decrement(ref _sleepers);
                }
            }
            RunItems(thread);
        }
    }

    public void Dispose()
    {
        _disposed = true;
        lock (_sleepGate) Monitor.PulseAll(_sleepGate);
        foreach (var worker in _workers) worker.Join();
    }
}
