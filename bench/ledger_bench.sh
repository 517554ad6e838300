#!/usr/bin/env bash
# Reproduces the ledger-core figures in bench/README.md on one machine:
#   1. a solo node (fsync on) under as much load as it takes   -> tps / batch_verify_tps
#                                                                  (tps_over_batch_verify; then tps_over_verify)
#   2. the same node at half that rate                          -> p99 commit latency
#   3. the offline audit of the resulting chain (--baseline)    -> ratio_to_batch, then ratio (single checks)
# Usage: bench/ledger_bench.sh [TXS]   (default 200000). Listens on 127.0.0.1 only.
set -euo pipefail
B=${MEDLEDGER_BIN:-build/medledger}
TXS=${1:-200000}
DIR=$(mktemp -d /tmp/medledger-bench.XXXXXX)
trap 'kill $PID 2>/dev/null || true; wait $PID 2>/dev/null || true; rm -rf "$DIR"' EXIT
$B init --data-dir "$DIR" >/dev/null
$B node --data-dir "$DIR" --listen 127.0.0.1:0 >"$DIR/node.out" 2>"$DIR/node.err" &
PID=$!
for _ in $(seq 100); do [ -s "$DIR/node.url" ] && break; sleep 0.1; done
URL=$(cat "$DIR/node.url")
echo "== peak (no --rate)"
PEAK=$($B bench --url "$URL" --data-dir "$DIR" --txs "$TXS" 2>/dev/null | tail -1)
echo "$PEAK"
HALF=$(python3 -c "import json,sys; print(int(json.loads(sys.argv[1])['tps']/2))" "$PEAK")
echo "== half of peak: --rate $HALF"
$B bench --url "$URL" --data-dir "$DIR" --txs $((HALF * 20)) --rate "$HALF" --batch 50 --connections 16 2>/dev/null | tail -1
kill $PID; wait $PID || true
echo "== verify --baseline"
$B verify --data-dir "$DIR" --baseline
