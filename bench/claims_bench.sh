#!/usr/bin/env bash
# Reproduces the claims figures in bench/README.md ("Claims: adjudication
# through a Lua policy") on one machine, from nothing:
#   1. init a development chain, start a solo node (fsync on) on 127.0.0.1
#   2. `medledger claim bench`: deploys the policy, registers PATIENTS
#      patients with coverage, anchors their encounters and CLAIMS Claim
#      records (untimed), then posts CLAIMS claims.submit transactions of
#      ITEMS items flat out and times them until all are committed: each ran
#      the policy in its block          -> claims/s, and claims/s over
#      batch_verify_tps (the node's floor, measured in the same process)
#   3. the node's CPU time per claim (utime+stime from /proc/PID/stat)
#   4. stop the node by its PID
# Usage: bench/claims_bench.sh
# Environment (defaults in brackets): MEDLEDGER_BIN [build/medledger]
#   POLICY [policies/managed.lua] PLAN [gold] CLAIMS [20000] PATIENTS [200]
#   ITEMS [3] CONNECTIONS [4] RUNS [1]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${MEDLEDGER_BIN:-$ROOT/build/medledger}
POLICY=${POLICY:-$ROOT/policies/managed.lua}
PLAN=${PLAN:-gold}
CLAIMS=${CLAIMS:-20000}
PATIENTS=${PATIENTS:-200}
ITEMS=${ITEMS:-3}
CONNECTIONS=${CONNECTIONS:-4}
RUNS=${RUNS:-1}

DIR=$(mktemp -d /tmp/medledger-claimsbench.XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  rm -rf "$DIR"
}
trap cleanup EXIT
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TICK=$(getconf CLK_TCK)

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, binary $B (HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?))"
$B init --data-dir "$DIR" >/dev/null
$B node --data-dir "$DIR" --listen 127.0.0.1:0 >"$DIR/node.out" 2>"$DIR/node.err" &
PID=$!
for _ in $(seq 200); do [ -s "$DIR/node.url" ] && break; sleep 0.1; done
[ -s "$DIR/node.url" ] || { echo "node did not start:"; cat "$DIR/node.err"; exit 1; }
URL=$(cat "$DIR/node.url")
echo "node PID $PID at $URL"
for run in $(seq "$RUNS"); do
  echo "== run $run: claim bench --claims $CLAIMS --patients $PATIENTS --items $ITEMS --policy $(basename "$POLICY") --plan $PLAN (load $(cut -d' ' -f1-3 /proc/loadavg))"
  C0=$(cpu_ticks)
  OUT=$($B claim bench --url "$URL" --data-dir "$DIR" --policy "$POLICY" --plan "$PLAN" --claims "$CLAIMS" \
          --patients "$PATIENTS" --items "$ITEMS" --connections "$CONNECTIONS" 2>"$DIR/bench.err" | python3 -c "import json,sys; print(json.dumps(json.load(sys.stdin)))") || { cat "$DIR/bench.err"; exit 1; }
  C1=$(cpu_ticks)
  echo "$OUT"
  python3 - "$OUT" "$C0" "$C1" "$TICK" <<'EOF2'
import json, sys
d = json.loads(sys.argv[1]); ticks = int(sys.argv[3]) - int(sys.argv[2]); hz = int(sys.argv[4])
print(f"{d['claims']} claims of {d['items_per_claim']} items in {d['seconds']:.2f} s: {d['claims_per_s']:.0f} claims/s, "
      f"{d['claims_over_batch_verify']:.3f} of batch_verify_tps {d['batch_verify_tps']:.0f}; "
      f"node CPU (whole run, set-up included) {ticks / hz:.1f} s")
EOF2
done
