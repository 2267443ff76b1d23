#!/usr/bin/env bash
# regen.sh — rebuild the golden captures and rewrite the expected rows.
# Review `git diff tests/golden` before committing: the expected files are
# the truth the decoders are held to.
set -eu
G=$(cd "$(dirname "$0")" && pwd)
B=${BUILD:-build}
cd "$G/../.."
make -s "$B/tests/golden_make_captures" "$B/vnd"
"$B/tests/golden_make_captures" "$G/captures"
VND="$PWD/$B/vnd" bash "$G/golden.sh" -u
