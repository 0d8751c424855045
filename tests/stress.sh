#!/usr/bin/env bash
# The stress run of issue 16: the tests that start a child process or send a signal, N times
# (default 20), while two busy loops per core keep every CPU busy. A test that races its child
# or a signal, or reads a clock, fails here. Not part of `make test`.
#
#   tests/stress.sh [N [PYTEST ARGS...]]     # PYTHON defaults to .venv/bin/python
#   JOBS=4 tests/stress.sh 20 -k "ctrl_c or ddp or terminal"   # 4 runs at a time, a part
#
# JOBS runs that many of the N runs at once (each with its own --basetemp), which loads the
# machine further. tests/stress_selection.txt lists the tests (pytest node ids); regenerate it
# after adding such tests with:  python -m pytest -p tests.children_audit
set -u
cd "$(dirname "$0")/.."
N=${1:-20}
shift || true
PYTHON=${PYTHON:-.venv/bin/python}
JOBS=${JOBS:-1}
LOGS=${LOGS:-$(mktemp -d)}
mkdir -p "$LOGS"
LOOPS=$((2 * $(nproc)))

busy=()
for _ in $(seq "$LOOPS"); do
    (while :; do :; done) &
    busy+=($!)
done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

run() {  # run I: one pytest run; its log in $LOGS/run_I.txt, its exit code in run_I.rc
    local start=$SECONDS
    "$PYTHON" -m pytest -p no:cacheprovider --basetemp "$LOGS/tmp_$1" \
        @tests/stress_selection.txt "${@:2}" >"$LOGS/run_$1.txt" 2>&1
    echo $? >"$LOGS/run_$1.rc"
    echo "run $1: $(tail -n 1 "$LOGS/run_$1.txt") ($((SECONDS - start)) s)"
}

runs=()
for i in $(seq "$N"); do
    run "$i" "$@" &
    runs+=($!)
    if [ "${#runs[@]}" -ge "$JOBS" ]; then  # at most JOBS at a time: wait for the oldest
        wait "${runs[0]}"
        runs=("${runs[@]:1}")
    fi
done
if [ "${#runs[@]}" -gt 0 ]; then wait "${runs[@]}"; fi  # not a bare wait: the loops run on
passed=$(grep -lx 0 "$LOGS"/run_*.rc | wc -l)
echo "$passed of $N runs passed, $JOBS at a time, with $LOOPS busy loops on $(nproc) cores" \
     "(logs: $LOGS)"
[ "$passed" -eq "$N" ]
