#!/usr/bin/env bash
# Reproduces the FHIR figures in bench/README.md ("FHIR ingest", "FHIR reads")
# on one machine, from nothing:
#   1. init a development chain, start a solo node (fsync on) on 127.0.0.1
#   2. register a patient and a practitioner, `record put` a Patient and an
#      Observation, the patient grants the practitioner consent (treatment)
#   3. `record bench-ingest` of the Synthea bundles        -> resources/s
#   4. `record bench-read` of the Observation, open loop   -> p50/p90/p99
#   5. stop the node by its PID
# Next to each wall-clock figure it prints the node's CPU time per resource /
# per read (utime+stime from /proc/PID/stat), which moves much less than wall
# time on a shared host, and the load average before each phase.
#
# Usage: bench/fhir_bench.sh [ingest|read|all]   (default all)
# Environment (defaults in brackets):
#   MEDLEDGER_BIN [build/medledger]  FHIR_DIR [../shared/data/fhir/synthea/smart-on-fhir-2019]
#   INGEST_CONCURRENCY [4] INGEST_ROUNDS [2]
#   READ_RATE [500] READ_SECONDS [20] READ_THREADS [16]
#   KEEP_DIR=1 keeps the data directory (its path is printed)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
B=${MEDLEDGER_BIN:-$ROOT/build/medledger}
FHIR_DIR=${FHIR_DIR:-$ROOT/../shared/data/fhir/synthea/smart-on-fhir-2019}
WHAT=${1:-all}
INGEST_CONCURRENCY=${INGEST_CONCURRENCY:-4}
INGEST_ROUNDS=${INGEST_ROUNDS:-2}
READ_RATE=${READ_RATE:-500}
READ_SECONDS=${READ_SECONDS:-20}
READ_THREADS=${READ_THREADS:-16}

DIR=$(mktemp -d /tmp/medledger-fhirbench.XXXXXX)
PID=
cleanup() {
  if [ -n "$PID" ]; then kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; fi
  if [ "${KEEP_DIR:-0}" = 1 ]; then echo "data directory kept: $DIR"; else rm -rf "$DIR"; fi
}
trap cleanup EXIT

# utime+stime of the node, in clock ticks (fields 14 and 15 of /proc/PID/stat;
# the command name in field 2 has no spaces here).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
TICK=$(getconf CLK_TCK)
load() { cut -d' ' -f1-3 /proc/loadavg; }

echo "== $(date -u +%Y-%m-%dT%H:%M:%SZ) $(nproc) cores, binary $B"
$B init --data-dir "$DIR" >/dev/null
$B node --data-dir "$DIR" --listen 127.0.0.1:0 >"$DIR/node.out" 2>"$DIR/node.err" &
PID=$!
for _ in $(seq 200); do [ -s "$DIR/node.url" ] && break; sleep 0.1; done
[ -s "$DIR/node.url" ] || { echo "node did not start:"; cat "$DIR/node.err"; exit 1; }
URL=$(cat "$DIR/node.url")
ADMIN=$DIR/keys/admin.key
echo "node PID $PID at $URL"

# --- Setup (untimed): patient, practitioner, two records, consent ---------
PAT=$($B keygen --out "$DIR/patient.key" | tail -1)
DOC=$($B keygen --out "$DIR/doctor.key" | tail -1)
$B identity register --url "$URL" --key "$ADMIN" --pubkey "$PAT" --role patient --label bench-patient >/dev/null
$B identity register --url "$URL" --key "$ADMIN" --pubkey "$DOC" --role practitioner --label bench-doctor >/dev/null
cat >"$DIR/patient.json" <<'EOF'
{"resourceType":"Patient","id":"bp1","gender":"female","birthDate":"1970-01-01"}
EOF
cat >"$DIR/obs.json" <<'EOF'
{"resourceType":"Observation","id":"bo1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose"}]},"subject":{"reference":"Patient/bp1"},"valueQuantity":{"value":5.40,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}
EOF
$B record put --url "$URL" --key "$ADMIN" --patient "$PAT" "$DIR/patient.json" >/dev/null
$B record put --url "$URL" --key "$ADMIN" --patient "$PAT" "$DIR/obs.json" >/dev/null
$B consent grant --url "$URL" --key "$DIR/patient.key" --to "$DOC" --types Observation --purpose treatment >/dev/null
echo "setup done: patient $PAT, practitioner $DOC, Observation/bo1, consent granted"

json_field() { python3 -c "import json,sys; d=json.loads(sys.stdin.read()); print(d$1)"; }

if [ "$WHAT" = all ] || [ "$WHAT" = ingest ]; then
  echo "== ingest: record bench-ingest --concurrency $INGEST_CONCURRENCY --rounds $INGEST_ROUNDS (load $(load))"
  C0=$(cpu_ticks)
  OUT=$($B record bench-ingest --url "$URL" --key "$ADMIN" --dir "$FHIR_DIR" \
          --concurrency "$INGEST_CONCURRENCY" --rounds "$INGEST_ROUNDS")
  C1=$(cpu_ticks)
  echo "$OUT"
  RES=$(echo "$OUT" | json_field "['resources_stored']")
  python3 - "$OUT" "$C0" "$C1" "$TICK" <<'EOF'
import json, sys
d = json.loads(sys.argv[1]); ticks = int(sys.argv[3]) - int(sys.argv[2]); hz = int(sys.argv[4])
n = d["resources_stored"]
print(f"ingest: {n} resources in {d['seconds']:.2f} s = {d['resources_per_s']:.0f} resources/s; "
      f"node CPU {ticks / hz:.2f} s = {1e6 * ticks / hz / max(n, 1):.0f} us/resource")
EOF
  [ "$RES" -gt 0 ]
fi

if [ "$WHAT" = all ] || [ "$WHAT" = read ]; then
  echo "== read: record bench-read --rate $READ_RATE --seconds $READ_SECONDS --threads $READ_THREADS (load $(load))"
  C0=$(cpu_ticks)
  OUT=$($B record bench-read --url "$URL" --key "$DIR/doctor.key" --purpose treatment \
          --rate "$READ_RATE" --seconds "$READ_SECONDS" --threads "$READ_THREADS" Observation/bo1)
  C1=$(cpu_ticks)
  echo "$OUT"
  python3 - "$OUT" "$C0" "$C1" "$TICK" <<'EOF'
import json, sys
d = json.loads(sys.argv[1]); ticks = int(sys.argv[3]) - int(sys.argv[2]); hz = int(sys.argv[4])
n = d["ok"]
print(f"read: {n} ok, {d['errors']} errors, {d['denied']} denied at {d['achieved_rate']:.1f}/s; "
      f"p50 {d['p50_ms']:.1f} ms, p90 {d['p90_ms']:.1f} ms, p99 {d['p99_ms']:.1f} ms, max {d['max_ms']:.1f} ms; "
      f"node CPU {ticks / hz:.2f} s = {1e6 * ticks / hz / max(n, 1):.0f} us/read")
EOF
  # Every granted read's access.event must reach the chain (within a few blocks).
  sleep 2
  echo "chain after the reads: $($B status --url "$URL" | tr -d '\n' | tr -s ' ')"
fi
echo "== done (load $(load))"
