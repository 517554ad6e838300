#!/usr/bin/env bash
# Where a loaded solo node's threads wait: 2 s of system-wide sched_switch
# events with DWARF call stacks (needs perf and root) during a flat-out
# `medledger bench`, summed per thread and blocking site. Prints each node
# thread's run time and time spent runnable but preempted, then the largest
# blocking sites ("epoll" on an HTTP thread means it had nothing to do).
# Usage: bench/offcpu.sh [TXS]   (default 300000). Listens on 127.0.0.1 only.
set -u
B=${MEDLEDGER_BIN:-build/medledger}
TXS=${1:-300000}
DIR=$(mktemp -d /tmp/medledger-offcpu.XXXXXX)
$B init --data-dir "$DIR" >/dev/null
$B node --data-dir "$DIR" --listen 127.0.0.1:0 ${NODE_ARGS:-} >/dev/null 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 100); do [ -s "$DIR/node.url" ] && break; sleep 0.1; done
$B bench --url "$(cat "$DIR/node.url")" --data-dir "$DIR" --txs "$TXS" ${BENCH_ARGS:-} >"$DIR/bench.out" 2>/dev/null &
BP=$!
sleep "${WARM:-7}"  # signing and registration come first
perf record -a -e sched:sched_switch --call-graph dwarf,8192 -o "$DIR/sched.perf" -- sleep 2 >/dev/null 2>&1
TIDS=$(ls /proc/$PID/task | tr '\n' ',')
wait $BP
tail -1 "$DIR/bench.out"
perf script -i "$DIR/sched.perf" -F cpu,tid,time,event,trace,ip,sym 2>/dev/null >"$DIR/sched.txt"
python3 - "$TIDS" "$DIR/sched.txt" <<'PY'
import collections, re, sys
want = set(t for t in sys.argv[1].split(',') if t)
hdr = re.compile(r'^\s*(\d+)\s+\[\d+\]\s+([\d.]+): sched:sched_switch: prev_comm=(.*?) prev_pid=(\d+) '
                 r'prev_prio=\d+ prev_state=(\S+) ==> next_comm=(.*?) next_pid=(\d+)')
def site(stack):
    for f in stack:
        if 'epoll_reactor::run' in f:
            return 'epoll'
        if 'medledger::' in f or 'rocksdb::' in f:
            return f.split('(')[0][:100]
    return '?'
blocked, preempted, last_in = {}, {}, {}
wait, waits, run, queued = collections.Counter(), collections.Counter(), collections.Counter(), collections.Counter()
cur, stack = None, []
def flush():
    if not cur:
        return
    _, t, _, prev, state, _, nxt = cur
    t = float(t)
    if prev in want:
        if prev in last_in:
            run[prev] += t - last_in.pop(prev)
        if state in ('R', 'R+'):
            preempted[prev] = t
        else:
            blocked[prev] = (t, site(stack))
    if nxt in want:
        last_in[nxt] = t
        if nxt in blocked:
            t0, s = blocked.pop(nxt)
            wait[(nxt, s)] += t - t0
            waits[(nxt, s)] += 1
        if nxt in preempted:
            queued[nxt] += t - preempted.pop(nxt)
for line in open(sys.argv[2]):
    m = hdr.match(line)
    if m:
        flush()
        cur, stack = m.groups(), []
    else:
        parts = line.strip().split(' ', 1)
        if len(parts) == 2:
            stack.append(parts[1])
flush()
for t in sorted(run, key=run.get, reverse=True):
    print(f"thread {t}: ran {run[t]:.3f} s, runnable but preempted {queued[t]:.3f} s")
for (t, s), v in wait.most_common(15):
    if v > 0.005:
        print(f"thread {t}: blocked {v:.3f} s in {waits[(t, s)]} waits at {s}")
PY
