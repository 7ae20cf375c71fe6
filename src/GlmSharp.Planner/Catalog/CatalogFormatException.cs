using GlmSharp.Errors;

namespace GlmSharp.Planner.Catalog;

/// <summary>A catalog file (chips, systems, validation points, efficiency factors) is malformed; the message names the
/// file, the record id and the field.</summary>
public sealed class CatalogFormatException(string message) : GlmException(message);

/// <summary>A request names a chip, system, model or precision the catalog does not have, or a layout that cannot work.</summary>
public sealed class PlanRequestException(string message) : GlmException(message);
