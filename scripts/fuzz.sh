#!/usr/bin/env bash
# The long fuzzing run (issue 11): at least a million mutated inputs over every input kind, each taken the whole way
# (open, decode every tensor, load, template + tokenize, generate). Untyped exceptions, crashes and hangs are written
# with their reproducers to fuzz-findings/ and make the exit code non-zero.
#   scripts/fuzz.sh [--inputs N] [--workers W] [--seed S] [--seconds S] [--targets a,b] [--findings DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build tools/GlmSharp.Fuzz -c Release -v quiet -nologo >/dev/null
args=("$@")
[[ " ${args[*]-} " == *" --inputs "* ]] || args+=(--inputs 1000000)
[[ " ${args[*]-} " == *" --findings "* ]] || args+=(--findings fuzz-findings)
exec dotnet tools/GlmSharp.Fuzz/bin/Release/net10.0/GlmSharp.Fuzz.dll fuzz "${args[@]}"
