#!/usr/bin/env python3
"""Node CPU by stage, from `perf script -F tid,ip,sym` of a node recorded
with DWARF call stacks (bench/supply_bench.sh, PERF=1) during an EPCIS
capture load (argument `capture`, the default) or product verifications
(`verify`). Each sample goes to the first stage whose frame its stack holds,
so stages do not overlap; for a capture, a second table splits the capture
module's own samples (admission and block build together)."""
import collections
import sys

samples, cur = [], None
for line in sys.stdin:
    line = line.rstrip("\n")
    if not line.strip():
        if cur is not None:
            samples.append(cur)
        cur = None
        continue
    if line.strip().isdigit():  # a sample's header line: its thread id
        if cur is not None:
            samples.append(cur)
        cur = []
        continue
    if cur is None:
        continue
    parts = line.strip().split(None, 1)
    cur.append(parts[1] if len(parts) > 1 else parts[0])
if cur:
    samples.append(cur)

STAGES = [
    ("admission: the capture run through the rules once (Executor::Check)", ("Admission::Screen", "Admission::Admit")),
    ("block build: the capture applied (Executor::Execute)", ("Chain::Build",)),
    ("block commit: RocksDB write batch, state root", ("Chain::Commit", "Store::Commit")),
    ("HTTP capture handler: CheckRequest parses the document", ("HandleCapture", "CheckRequest")),
    ("request authentication", ("Authenticat",)),
    ("RocksDB background (flush, compaction)", ("rocksdb::",)),
    ("HTTP I/O", ("boost::asio", "http::")),
]
VERIFY = [
    ("custody chain: supply::TracePack", ("TracePack",)),
    ("custody chain to JSON (TraceJson)", ("TraceJson",)),
    ("the DSCSA answer: supply::Verify", ("supply::Verify",)),
    ("identifier: Digital Link / element string", ("ReadIdentifier", "ParseScanned")),
    ("the answer as JSON text", ("HandleVerify",)),
    ("request signature (Ed25519)", ("crypto_sign_verify", "VerifyMany", "ge25519", "ed25519")),
    ("request authentication, other", ("Authenticat",)),
    ("RocksDB background (flush, compaction)", ("rocksdb::",)),
    ("HTTP I/O", ("boost::asio", "http::")),
]
MODULE = [
    ("EPCIS ParseDocument (with the CBV 2.0 event hash)", ("ParseDocument",)),
    ("RuleEngine::Flush (object writes)", ("RuleEngine::Flush",)),
    ("PutEvent (event record and indexes)", ("PutEvent",)),
    ("rules (RuleEngine)", ("RuleEngine",)),
]


def first(stack, table, default):
    for name, marks in table:
        if any(m in f for f in stack for m in marks):
            return name
    return default


n = len(samples)
if n == 0:
    print("  no samples")
    sys.exit(0)
verify = len(sys.argv) > 1 and sys.argv[1] == "verify"
top = collections.Counter(first(s, VERIFY if verify else STAGES, "other") for s in samples)
print(f"  {n} samples")
for k, v in top.most_common():
    print(f"  {100 * v / n:5.1f}%  {k}")
if verify:
    sys.exit(0)
mod = collections.Counter(first(s, MODULE, "capture module, other")
                          for s in samples if any("CaptureModule::Apply" in f for f in s))
print("  inside supply::CaptureModule::Apply (admission and block build together):")
for k, v in mod.most_common():
    print(f"  {100 * v / n:5.1f}%  {k}")
