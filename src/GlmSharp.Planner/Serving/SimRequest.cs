namespace GlmSharp.Planner.Serving;

/// <summary>One request's life in the simulator; times in seconds.</summary>
internal sealed class SimRequest(int id, int input, int output, double arrival)
{
    public int Id { get; } = id;
    public int Input { get; } = input;
    public int Output { get; } = output;
    public double Arrival { get; } = arrival;
    public int Prefilled { get; set; }
    public double Generated { get; set; }
    public double FirstToken { get; set; } = double.NaN;
    public double Finish { get; set; } = double.NaN;
    public int CompletedCount { get; set; }

    public bool PrefillDone => Prefilled >= Input;
    public int KvReservation => Input + Output;
}
