namespace GlmSharp.Planner; internal static class PlannerPlaceholder { }
