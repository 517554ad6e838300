#!/usr/bin/env bash
# Reproduces the network figures in bench/README.md on one machine:
#   1. a solo node (fsync on), flat out                  -> solo tps, verify_tps
#   2. `network up --nodes 3` (3 etcd members, 3 nodes), one generator
#      spreading its connections over the three nodes    -> network tps, p99
#   3. heights and state-root agreement on every node, then `network down`.
# Usage: bench/network_bench.sh [TXS] [CONNECTIONS]  (defaults 60000, 6).
# Everything listens on 127.0.0.1 only and is stopped by PID.
set -euo pipefail
B=${MEDLEDGER_BIN:-build/medledger}
TXS=${1:-60000}
CONNS=${2:-6}
DIR=$(mktemp -d /tmp/medledger-netbench.XXXXXX)
SOLO="$DIR/solo"
cleanup() {
  [ -n "${PID:-}" ] && { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
  [ -d "$DIR/net" ] && $B network down --dir "$DIR/net" >/dev/null 2>&1 || true
  rm -rf "$DIR"
}
trap cleanup EXIT

echo "== solo node, flat out ($TXS txs, $CONNS connections)"
$B init --data-dir "$SOLO" >/dev/null
$B node --data-dir "$SOLO" --listen 127.0.0.1:0 >"$SOLO/node.out" 2>"$SOLO/node.err" &
PID=$!
for _ in $(seq 100); do [ -s "$SOLO/node.url" ] && break; sleep 0.1; done
SOLO_OUT=$($B bench --url "$(cat "$SOLO/node.url")" --data-dir "$SOLO" --txs "$TXS" --connections "$CONNS" 2>/dev/null | tail -1)
echo "$SOLO_OUT"
kill "$PID"; wait "$PID" 2>/dev/null || true; PID=

echo "== network: 3 etcd members, 3 nodes"
NET=$($B network up --dir "$DIR/net" --nodes 3)
URLS=($(python3 -c "import json,sys; print(' '.join(n['url'] for n in json.loads(sys.argv[1])['nodes']))" "$NET"))
D1=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['nodes'][0]['data_dir'])" "$NET")
NET_OUT=$($B bench --url "${URLS[0]}" --also-url "${URLS[1]}" --also-url "${URLS[2]}" --data-dir "$D1" \
  --txs "$TXS" --connections "$CONNS" 2>/dev/null | tail -1)
echo "$NET_OUT"
sleep 2
$B network status --dir "$DIR/net"

python3 - "$SOLO_OUT" "$NET_OUT" <<'PY'
import json, sys
solo, net = json.loads(sys.argv[1]), json.loads(sys.argv[2])
v = solo["verify_tps"]
print(json.dumps({
    "solo_tps": round(solo["tps"]), "verify_tps": round(v), "solo_over_verify": round(solo["tps"] / v, 3),
    "network_tps": round(net["tps"]), "network_p99_ms": round(net["p99_ms"], 1),
    "network_over_verify_per_node": round(net["tps"] / (v / 3), 3),
    "network_over_solo": round(net["tps"] / solo["tps"], 3)}))
PY
