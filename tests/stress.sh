#!/usr/bin/env bash
# The stress run of issue 16: the tests that start a child process or send a signal, N times
# (default 20), while two busy loops per core keep every CPU busy. A test that races its child
# or a signal, or reads a clock, fails here. Not part of `make test`.
#
#   tests/stress.sh [N [PYTEST ARGS...]]     # PYTHON defaults to .venv/bin/python
#   tests/stress.sh 20 -k "ctrl_c or ddp or terminal"    # a part of them
#
# tests/stress_selection.txt lists those tests (pytest node ids); regenerate it after adding
# such tests with:  python -m pytest -p tests.children_audit
set -u
cd "$(dirname "$0")/.."
N=${1:-20}
shift || true
PYTHON=${PYTHON:-.venv/bin/python}
LOGS=${LOGS:-$(mktemp -d)}
LOOPS=$((2 * $(nproc)))

busy=()
for _ in $(seq "$LOOPS"); do
    (while :; do :; done) &
    busy+=($!)
done
trap 'kill "${busy[@]}" 2>/dev/null' EXIT

passed=0
for i in $(seq "$N"); do
    start=$(date +%s)
    if "$PYTHON" -m pytest -p no:cacheprovider -q @tests/stress_selection.txt "$@" \
            >"$LOGS/run_$i.txt" 2>&1; then
        passed=$((passed + 1))
    fi
    echo "run $i: $(tail -n 1 "$LOGS/run_$i.txt") ($(($(date +%s) - start)) s)"
done
echo "$passed of $N runs passed with $LOOPS busy loops on $(nproc) cores (logs: $LOGS)"
[ "$passed" -eq "$N" ]
