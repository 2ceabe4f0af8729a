#!/usr/bin/env bash
# One learner + N actors on this machine against the one-process run on the same config:
# positions per second of self-play, training steps per second, and the messaging cost per
# chunk. Needs nats-server and python3, and a release build of `train`:
#   cargo build --release --bin train && scripts/bench-distributed.sh [CONFIG] [ITERATIONS] [ACTORS]
# The distributed run takes from the actors as many positions per iteration as the one-process
# run played (samples_per_position set from its measurement), so both train the same amount
# on the same amount of new data; evaluation is off in both.
set -euo pipefail
cd "$(dirname "$0")/.."
config=${1:-configs/small.ron}
iterations=${2:-4}
actors=${3:-2}
train=target/release/train
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

python3 - "$config" "$iterations" > "$work/one.ron" <<'EOF'
import re, sys
text = open(sys.argv[1]).read()
text = re.sub(r"iterations: \d+,", f"iterations: {sys.argv[2]},", text, count=1)
text = re.sub(r"every: \d+,", "every: 0,", text, count=1)
print(text)
EOF

echo "one process: $config, $iterations iterations" >&2
"$train" --config "$work/one.ron" --run-dir "$work/one" 2> "$work/one.log"

summary() {
    python3 - "$1" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
wall = sum(m["seconds"] for m in lines)
positions = sum(m["selfplay"]["positions"] for m in lines)
steps = sum(m["train"]["steps"] for m in lines)
print(json.dumps({"iterations": len(lines), "wall_s": wall, "positions": positions, "steps": steps,
                  "positions_per_s": positions / wall, "steps_per_s": steps / wall,
                  "per_iteration_positions": positions / len(lines)}))
EOF
}
one=$(summary "$work/one")
echo "$one" >&2

# The distributed run: the same config, taking the one-process run's positions per iteration.
python3 - "$work/one.ron" "$one" > "$work/dist.ron" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read().rstrip()
one = json.loads(sys.argv[2])
batch = int(re.search(r"batch_size: (\d+),", text).group(1))
steps = int(re.search(r"steps_per_iteration: (\d+),", text).group(1))
ratio = batch * steps / one["per_iteration_positions"]
if "samples_per_position:" in text:
    print(re.sub(r"samples_per_position: [\d.]+,", f"samples_per_position: {ratio:.4f},", text, count=1))
else:
    assert text.endswith(")")
    print(text[:-1] + f"    distributed: (samples_per_position: {ratio:.4f}),\n)")
EOF

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
nats-server -js -a 127.0.0.1 -p "$port" -sd "$work/js" 2> "$work/nats.log" &
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break; sleep 0.1; done
url=nats://127.0.0.1:$port
echo "learner + $actors actors on $url" >&2
actor_pids=()
for a in $(seq "$actors"); do
    "$train" actor --nats "$url" --name "actor$a" 2> "$work/actor$a.log" &
    actor_pids+=($!)
done
"$train" learner --config "$work/dist.ron" --run-dir "$work/dist" --nats "$url" 2> "$work/learner.log" || { tail -20 "$work/learner.log" >&2; exit 1; }
wait "${actor_pids[@]}"

python3 - "$work" "$one" "$actors" <<'EOF'
import glob, json, re, sys
work, one, actors = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
lines = [json.loads(l) for l in open(work + "/dist/metrics.jsonl")]
wall = sum(m["seconds"] for m in lines)
positions = sum(m["selfplay"]["positions"] for m in lines)
steps = sum(m["train"]["steps"] for m in lines)
wait = sum(m["stream"]["wait_s"] for m in lines)
sent = []
for log in glob.glob(work + "/actor*.log"):
    for l in open(log):
        m = re.search(r"sent chunk \S+: (\d+) positions of network v\d+, (\d+) bytes, encoded and stored in ([\d.]+) ms", l)
        if m:
            sent.append((int(m.group(1)), int(m.group(2)), float(m.group(3))))
n = len(sent)
print(f"one process : {one['positions_per_s']:.0f} positions/s of self-play, {one['steps_per_s']:.2f} training steps/s (over {one['wall_s']:.0f} s wall, {one['iterations']} iterations)")
print(f"distributed : {positions / wall:.0f} positions/s taken, {steps / wall:.2f} training steps/s (over {wall:.0f} s wall, {len(lines)} iterations; learner waited {wait:.0f} s for data); {actors} actors")
if n:
    print(f"per chunk   : {n} chunks, mean {sum(s[0] for s in sent) / n:.0f} positions, {sum(s[1] for s in sent) / n / 1024:.0f} KiB, encode + store {sum(s[2] for s in sent) / n:.1f} ms (max {max(s[2] for s in sent):.1f} ms)")
EOF
