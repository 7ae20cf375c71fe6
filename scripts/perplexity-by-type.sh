#!/usr/bin/env bash
# Perplexity of the embedded dense model glm-tiny-chat after quantizing it to each weight type, as a Markdown table.
# Needs data/valid.txt (scripts/prepare-corpus.sh). Usage: scripts/perplexity-by-type.sh [context] [types...]
set -euo pipefail
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
context="${1:-256}"
shift || true
types=("$@")
if [ ${#types[@]} -eq 0 ]; then types=(f32 f16 bf16 q8_0 q6_k q4_k_m q4_k q4_0 mxfp4 nvfp4); fi
model="$repo_root/models/glm-tiny-chat"
valid="$repo_root/data/valid.txt"
[ -f "$valid" ] || { echo "missing $valid: run scripts/prepare-corpus.sh first" >&2; exit 1; }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
dotnet build "$repo_root/src/GlmSharp.Cli" -c Release -v quiet -nologo >/dev/null
glm=(dotnet "$repo_root/src/GlmSharp.Cli/bin/Release/net10.0/glm.dll")

echo "| type | file MB | perplexity | vs F32 |"
echo "|---|---|---|---|"
baseline=""
for type in "${types[@]}"; do
  gguf="$work/model-$type.gguf"
  "${glm[@]}" quantize "$model" "$gguf" --type "$type" >/dev/null 2>&1
  ppl=$("${glm[@]}" perplexity --model "$gguf" --file "$valid" --context "$context" --cache-type f32 2>/dev/null \
        | sed -n 's/^perplexity \([0-9.]*\).*/\1/p')
  size=$(awk -v b="$(stat -c %s "$gguf")" 'BEGIN { printf "%.1f", b / 1048576 }')
  [ -n "$baseline" ] || baseline="$ppl"
  delta=$(awk -v p="$ppl" -v b="$baseline" 'BEGIN { printf "%+.2f%%", (p / b - 1) * 100 }')
  echo "| $type | $size | $ppl | $delta |"
done
