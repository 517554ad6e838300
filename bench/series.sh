#!/usr/bin/env bash
# Committed tx/s every 0.5 s during one flat-out `medledger bench` against a
# fresh solo node, with the node's and the bench's CPU use; the last line is
# the bench's JSON. For A/B comparisons: alternate two binaries
#   MEDLEDGER_BIN=/tmp/a bench/series.sh 300000; MEDLEDGER_BIN=/tmp/b bench/series.sh 300000
# Env: NODE_ENV (prefix for the node command), NODE_ARGS, BENCH_ARGS.
# Listens on 127.0.0.1 only.
set -u
B=${MEDLEDGER_BIN:-build/medledger}
TXS=${1:-300000}
DIR=$(mktemp -d /tmp/medledger-series.XXXXXX)
$B init --data-dir "$DIR" >/dev/null
${NODE_ENV:-} $B node --data-dir "$DIR" --listen 127.0.0.1:0 ${NODE_ARGS:-} >"$DIR/node.out" 2>"$DIR/node.err" &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do [ -s "$DIR/node.url" ] && break; sleep 0.1; done
URL=$(cat "$DIR/node.url")
$B bench --url "$URL" --data-dir "$DIR" --txs "$TXS" ${BENCH_ARGS:-} >"$DIR/bench.out" 2>"$DIR/bench.err" &
BP=$!
python3 - "$URL" $PID $BP <<'PY'
import json, os, sys, time, urllib.request
url, pid, bp = sys.argv[1], sys.argv[2], sys.argv[3]
def cpu(p):  # utime + stime in clock ticks
    try:
        f = open(f'/proc/{p}/stat').read().split(')')[1].split()
        return int(f[11]) + int(f[12])
    except Exception:
        return 0
hz = os.sysconf('SC_CLK_TCK')
prev, t0 = None, time.time()
while os.path.exists(f'/proc/{bp}'):
    try:
        c = json.load(urllib.request.urlopen(url + '/v1/status'))['committed_txs']
    except Exception:
        c = 0
    now, nc, bc = time.time(), cpu(pid), cpu(bp)
    if prev:
        dt = now - prev[0]
        print(f"{now - t0:5.1f}s {(c - prev[1]) / dt:8.0f} tx/s node_cpu={100 * (nc - prev[2]) / hz / dt:4.0f}% "
              f"bench_cpu={100 * (bc - prev[3]) / hz / dt:4.0f}%", flush=True)
    prev = (now, c, nc, bc)
    time.sleep(0.5)
PY
wait $BP
tail -1 "$DIR/bench.out"
