#!/usr/bin/env bash
# Runs every libFuzzer target of a fuzz build for N seconds each, all targets in parallel (one
# process per target), and reports. docs/fuzzing.md describes the build and the figures.
#
# usage: fuzz/run-all.sh [-b BUILD_DIR] [-t SECONDS] [-o OUT_DIR] [-c CLI | -s SEEDS] [target ...]
#   BUILD_DIR  the fuzz build (default build-fuzz); targets are BUILD_DIR/fuzz/fuzz-*
#   SECONDS    -max_total_time per target (default 600)
#   OUT_DIR    default build-fuzz/out/: corpus/<target>/ (kept between runs; seeded by make-seeds.py),
#              artifacts/<target>/ (crash-*, leak-*, timeout-*, oom-* inputs),
#              logs/<target>.log (full output), summary.txt (each target's final stats)
#   CLI        moestudio-cli of a normal build, for the tiny-model seeds of fuzz-model-load
#   SEEDS      a seed folder made earlier by make-seeds.py (SEEDS/<target>/), used as it is
# Exits 1 if any target crashed, leaked, timed out or ran out of memory (its artifact is named in
# summary.txt), 2 on a usage error. Environment: FUZZ_ARGS adds libFuzzer flags to every target.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=$ROOT/build-fuzz
SECONDS_EACH=600
OUT=$ROOT/build-fuzz/out
CLI=
SEEDS=
while getopts "b:t:o:c:s:h" opt; do
    case $opt in
        b) BUILD=$(cd "$OPTARG" && pwd) ;;
        t) SECONDS_EACH=$OPTARG ;;
        o) mkdir -p "$OPTARG" && OUT=$(cd "$OPTARG" && pwd) ;;
        c) CLI=$OPTARG ;;
        s) SEEDS=$(cd "$OPTARG" && pwd) ;;
        *) sed -n '2,14p' "$0" >&2; exit 2 ;;
    esac
done
shift $((OPTIND - 1))

targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for exe in "$BUILD"/fuzz/fuzz-*; do
        [[ -x $exe && -f $exe ]] && targets+=("$(basename "$exe")")
    done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
    echo "run-all: no fuzz-* executables in $BUILD/fuzz (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
    exit 2
fi

mkdir -p "$OUT/corpus" "$OUT/artifacts" "$OUT/logs"
if [[ -z $SEEDS ]]; then
    SEEDS=$OUT/seeds
    seedArgs=("$SEEDS")
    [[ -n $CLI ]] && seedArgs+=(--cli "$CLI")
    python3 "$ROOT/fuzz/make-seeds.py" "${seedArgs[@]}" >/dev/null || exit 2
fi

dictFor() {
    case $1 in
        fuzz-model-load) echo "$ROOT/fuzz/gguf.dict" ;;
        *) echo "$ROOT/fuzz/${1#fuzz-}.dict" ;;
    esac
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

declare -A pids
for t in "${targets[@]}"; do
    mkdir -p "$OUT/corpus/$t" "$OUT/artifacts/$t"
    dict=$(dictFor "$t")
    dictArg=()
    [[ -f $dict ]] && dictArg=("-dict=$dict")
    # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
    "$BUILD/fuzz/$t" "$OUT/corpus/$t" "$SEEDS/$t" "${dictArg[@]}" \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
        -artifact_prefix="$OUT/artifacts/$t/" ${FUZZ_ARGS:-} >"$OUT/logs/$t.log" 2>&1 &
    pids[$t]=$!
done

failed=0
: >"$OUT/summary.txt"
for t in "${targets[@]}"; do
    wait "${pids[$t]}"
    rc=$?
    log=$OUT/logs/$t.log
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    speed=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -1)
    corpus=$(find "$OUT/corpus/$t" -type f | wc -l)
    artifacts=$(find "$OUT/artifacts/$t" -type f | tr '\n' ' ')
    status=ok
    if [[ $rc -ne 0 || -n $artifacts ]]; then
        status="FAILED (exit $rc) $artifacts"
        failed=1
    fi
    printf '%s: %s s, %s executions, %s exec/s, corpus %s files, %s | %s\n' \
        "$t" "$SECONDS_EACH" "${execs:-?}" "${speed:-?}" "$corpus" "$status" "$last" | tee -a "$OUT/summary.txt"
done
exit $failed
