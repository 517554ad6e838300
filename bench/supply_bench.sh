#!/usr/bin/env bash
# Reproduces the supply-chain figures in bench/README.md ("Supply chain:
# EPCIS capture and product verification") on one machine, from nothing:
#   1. init a development chain, start a solo node (fsync on) on 127.0.0.1
#   2. baseline: `medledger bench` flat out (anchors)  -> the node's tx/s and
#      batch_verify_tps, the node's own floor
#   3. `epcis bench-capture`, flat out, two phases timed apart:
#      lifecycle: cases of PACKS packs, commissioned, packed into an SSCC
#      and shipped (3 events a case), CASES cases a document;
#      moves: each case received, then shipped and received along MOVES
#      locations, each event naming only its SSCC
#                                                       -> events/s, EPCs/s,
#      each over batch_verify_tps measured in the same process
#   4. `product bench-verify`: open loop at RATE/s, first a signed read of
#      the caller's identity (baseline), then GET /v1/products/verify over a
#      sample of the captured packs                      -> p99, p99 / baseline p99
#   5. stop the node by its PID
# Next to each figure: the node's CPU time per unit (utime+stime from
# /proc/PID/stat, steadier than wall time on a shared host) and the load
# average before each phase. PERF=1 also records the node with perf (DWARF
# call stacks) during one capture phase (PERF_PHASE=lifecycle, the default,
# or moves; PERF_SECONDS [4]) and the verification phase and
# prints its CPU by stage (bench/perf_stages.py); the figures of a PERF run
# are slowed by perf itself.
#
# Usage: bench/supply_bench.sh [all|capture|verify]   (default all; verify
# captures a small workload first, to have packs to verify)
# Environment (defaults in brackets):
#   MEDLEDGER_BIN [build/medledger]  BASELINE_TXS [100000] (0 skips step 2)
#   DOCS [400] CASES [5] PACKS [100] MOVES [10] (0 skips the moves) CONNECTIONS [4]
#   RATE [1000] VERIFY_SECONDS [20] THREADS [16]
#   PERF=1, KEEP_DIR=1 keeps the data directory (its path is printed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${MEDLEDGER_BIN:-$ROOT/build/medledger}
WHAT=${1:-all}
BASELINE_TXS=${BASELINE_TXS:-100000}
DOCS=${DOCS:-400}
MOVES=${MOVES:-10}
CASES=${CASES:-5}
PACKS=${PACKS:-100}
CONNECTIONS=${CONNECTIONS:-4}
RATE=${RATE:-1000}
VERIFY_SECONDS=${VERIFY_SECONDS:-20}
THREADS=${THREADS:-16}
if [ "$WHAT" = verify ]; then DOCS=${VERIFY_DOCS:-40}; MOVES=0; fi

DIR=$(mktemp -d /tmp/medledger-supplybench.XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ "${KEEP_DIR:-0}" = 1 ]; then echo "data directory kept: $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TICK=$(getconf CLK_TCK)
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, binary $B (HEAD $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo ?))"
$B init --data-dir "$DIR" >/dev/null
$B node --data-dir "$DIR" --listen 127.0.0.1:0 >"$DIR/node.out" 2>"$DIR/node.err" &
PID=$!
for _ in $(seq 200); do [ -s "$DIR/node.url" ] && break; sleep 0.1; done
[ -s "$DIR/node.url" ] || { echo "node did not start:"; cat "$DIR/node.err"; exit 1; }
URL=$(cat "$DIR/node.url")
echo "node PID $PID at $URL"

if [ "$BASELINE_TXS" -gt 0 ] && [ "$WHAT" != verify ]; then
  echo "== baseline: medledger bench --txs $BASELINE_TXS (load $(load))"
  BASE=$($B bench --url "$URL" --data-dir "$DIR" --txs "$BASELINE_TXS" 2>/dev/null | tail -1)
  echo "$BASE"
fi

echo "== capture: epcis bench-capture --docs $DOCS --cases-per-doc $CASES --packs-per-case $PACKS --moves-per-case $MOVES --connections $CONNECTIONS (load $(load))"
PERF_PHASE=${PERF_PHASE:-lifecycle}
if [ "${PERF:-0}" = 1 ]; then
  # Starts a second into the phase PERF_PHASE (lifecycle or moves), which
  # bench-capture announces on stderr; DWARF stacks, attributed to stages
  # below by the frames they contain.
  (for _ in $(seq 1200); do grep -q "bench-capture: $PERF_PHASE," "$DIR/capture.err" 2>/dev/null && break; sleep 0.1; done
   sleep 1; perf record -F 499 --call-graph dwarf,16384 -p "$PID" -o "$DIR/capture.perf" \
     -- sleep "${PERF_SECONDS:-4}" >/dev/null 2>&1) &
  PERFPID=$!
fi
C0=$(cpu_ticks)
CAP=$($B epcis bench-capture --url "$URL" --data-dir "$DIR" --docs "$DOCS" --cases-per-doc "$CASES" \
        --packs-per-case "$PACKS" --moves-per-case "$MOVES" --connections "$CONNECTIONS" --node-pid "$PID" \
        --codes-out "$DIR/codes.txt" 2>"$DIR/capture.err" | tail -1)
C1=$(cpu_ticks)
echo "$CAP"
python3 - "$CAP" "$C0" "$C1" "$TICK" "${BASE:-}" <<'EOF2'
import json, sys
d = json.loads(sys.argv[1]); ticks = int(sys.argv[3]) - int(sys.argv[2]); hz = int(sys.argv[4])
bv = d["batch_verify_tps"]
print(f"batch_verify_tps {bv:.0f} (verify_tps {d['verify_tps']:.0f}), {d['threads']} threads, same process")
for name in ("lifecycle", "moves"):
    if name not in d: continue
    p = d[name]
    print(f"{name}: {p['docs']} documents ({p['doc_bytes_avg']} bytes), {p['events']} events, {p['epcs']} EPCs in "
          f"{p['seconds']:.2f} s; outcomes {p['outcomes']}, errors {p['errors']}")
    print(f"{name}: {p['events_per_s']:.0f} events/s = {p['events_over_batch_verify']:.4f} of batch_verify_tps "
          f"(target 10,000 events/s = {10000 / bv:.3f} of it here); {p['epcs_per_s']:.0f} EPCs/s = "
          f"{p['epcs_over_batch_verify']:.3f} of it; {p['packs_per_s']:.0f} packs/s "
          f"({'commissioned' if name == 'lifecycle' else 'carried in the moved cases'}); {p['docs_per_s']:.1f} documents/s")
    if "node_cpu_s" in p:
        print(f"{name}: node CPU {p['node_cpu_s']:.2f} s = {p['node_us_per_event']:.0f} us/event, "
              f"{p['node_us_per_epc']:.1f} us/EPC")
print(f"capture: node CPU {ticks / hz:.2f} s for bench-capture's whole run (setup and both phases)")
if sys.argv[5]:
    b = json.loads(sys.argv[5])
    print(f"baseline (same node, same script): {b['tps']:.0f} anchor tx/s = {b['tps_over_batch_verify']:.2f} of "
          f"batch_verify_tps {b['batch_verify_tps']:.0f}")
EOF2
if [ "${PERF:-0}" = 1 ]; then
  wait "$PERFPID" || true
  echo "== perf of the node during the $PERF_PHASE phase: node CPU by stage (share of samples)"
  perf script -i "$DIR/capture.perf" -F tid,ip,sym 2>/dev/null | python3 "$ROOT/bench/perf_stages.py" || true
fi

if [ "$WHAT" = all ] || [ "$WHAT" = verify ]; then
  # A fresh identity each run: one key's unexpired nonces are bounded
  # (api/auth.h key_quota), and two phases at 1,000/s for 20 s use 40,000.
  PHARM=$($B keygen --out "$DIR/pharmacy.key" | tail -1)
  $B identity register --url "$URL" --key "$DIR/keys/admin.key" --pubkey "$PHARM" --role dispenser --label bench-pharmacy >/dev/null
  echo "== verify: product bench-verify --rate $RATE --seconds $VERIFY_SECONDS --threads $THREADS over $(wc -l <"$DIR/codes.txt") packs (load $(load))"
  if [ "${PERF:-0}" = 1 ]; then
    # The verification phase follows the baseline's VERIFY_SECONDS.
    (sleep "$((VERIFY_SECONDS + 3))"; perf record -F 499 --call-graph dwarf,16384 -p "$PID" -o "$DIR/verify.perf" \
       -- sleep "${PERF_SECONDS:-6}" >/dev/null 2>&1) &
    PERFPID=$!
  fi
  VER=$($B product bench-verify --url "$URL" --key "$DIR/pharmacy.key" --codes "$DIR/codes.txt" \
          --rate "$RATE" --seconds "$VERIFY_SECONDS" --threads "$THREADS" --node-pid "$PID" 2>/dev/null | tail -1)
  echo "$VER"
  python3 - "$VER" <<'EOF'
import json, sys
d = json.loads(sys.argv[1])
b, v = d["baseline"], d["verify"]
for name, p in (("baseline", b), ("verify", v)):
    print(f"{name}: {p['ok']} ok, {p['errors']} errors at {p['achieved_rate']:.0f}/s; p50 {p['p50_ms']:.2f} ms, "
          f"p90 {p['p90_ms']:.2f} ms, p99 {p['p99_ms']:.2f} ms, max {p['max_ms']:.1f} ms; "
          f"node CPU {p.get('node_us_per_request', 0):.0f} us/request")
print(f"verify: p99 {v['p99_ms']:.2f} ms (target < 5 ms) = {d['p99_ratio']:.2f} x the baseline's p99; answers {v.get('statuses')}")
EOF
  if [ "${PERF:-0}" = 1 ]; then
    wait "$PERFPID" || true
    echo "== perf of the node during the verification phase (its p99 is not the figure: perf slows the node)"
    perf script -i "$DIR/verify.perf" -F tid,ip,sym 2>/dev/null | python3 "$ROOT/bench/perf_stages.py" verify || true
  fi
fi
echo "== done (load $(load))"
