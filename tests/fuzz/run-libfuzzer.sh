#!/usr/bin/env bash
# run-libfuzzer.sh BIN SECONDS — a short libFuzzer run of one target,
# seeded from tests/fuzz/seeds/NAME and the public corpus.  A crash, or an
# input that runs 10 s (a hang: libFuzzer's own limit is 20 minutes, which
# would only have stalled the run), is saved to tests/fuzz/crashers/NAME/
# so it is replayed from then on.
set -u
bin=$1 secs=$2
name=$(basename "$bin"); name=${name#fuzz_}
top=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d /tmp/vnd-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT
seeds=()
[ -d "$top/tests/fuzz/seeds/$name" ] && seeds+=("$top/tests/fuzz/seeds/$name")
corpus="$top/../shared/corpus"
if [ -f "$top/tests/fuzz/seed-dirs/$name" ]; then
    while read -r d; do [ -d "$corpus/$d" ] && seeds+=("$corpus/$d"); done <"$top/tests/fuzz/seed-dirs/$name"
fi
mkdir -p "$top/tests/fuzz/crashers/$name"
# a target's own files (fuzz_diag's database) in $work too, apart from
# the corpus libFuzzer writes (and reloads) there
mkdir "$work/tmp"
if TMPDIR=$work/tmp "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
      -artifact_prefix="$top/tests/fuzz/crashers/$name/" "$work" "${seeds[@]}" >"$work/log" 2>&1; then
    echo "ok 1 - $name fuzzed ${secs}s: $(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/log") runs"
else
    echo "not ok 1 - $name: crash saved in tests/fuzz/crashers/$name/"
    grep -A30 'ERROR\|SUMMARY' "$work/log" | head -40 | sed 's/^/# /'
    exit 1
fi
