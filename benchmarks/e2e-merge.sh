#!/usr/bin/env bash
# End-to-end benchmark: TIES over a generated family of 4 checkpoints of ~1B parameters (BF16,
# sharded), timed as a whole process, next to the I/O floor (read the inputs, write the output,
# no arithmetic) on the same disk. Prints a Markdown row for benchmarks/RESULTS.md.
#
# Usage: benchmarks/e2e-merge.sh [WORK_DIR]   (default /tmp/amalgam-e2e; needs ~12 GB free)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$root/scripts/java-home.sh"
work="${1:-/tmp/amalgam-e2e}"
mkdir -p "$work"
cd "$root"
./mvnw -q -B -DskipTests -Damalgam.cuda.skip=true -pl cli,benchmarks -am package >&2

# 16 layers × hidden 2048 × intermediate 5632 + 32000-token vocab ≈ 0.95B parameters per checkpoint.
if [ ! -f "$work/family/ft-3/model.safetensors.index.json" ]; then
  echo "generating the family into $work/family …" >&2
  ./amalgam generate-family "$work/family" --layers 16 --hidden 2048 --intermediate 5632 --vocab 32000 \
    --fine-tunes 3 --dtype bfloat16 --max-shard-size 1GB >&2
fi
cat > "$work/family/ties.yaml" <<'YAML'
merge_method: ties
base_model: base
models:
  - {model: ft-1, parameters: {weight: 1.0, density: 0.3}}
  - {model: ft-2, parameters: {weight: 1.0, density: 0.3}}
  - {model: ft-3, parameters: {weight: 1.0, density: 0.3}}
YAML
out_bytes=$(du -cb "$work"/family/base/*.safetensors | tail -1 | cut -f1)
# Warm the page cache the same way for both runs: each reads the inputs once before timing.
cat "$work"/family/*/*.safetensors > /dev/null
# Start each timed step with no dirty pages left from earlier runs: they would be written back
# during the step and charged to it.
rm -rf "$work/merged"; sync
floor_start=$(date +%s.%N)
"$JAVA_HOME/bin/java" -cp benchmarks/target/benchmarks.jar dev.amalgam.benchmarks.IoFloor "$work/floor.bin" "$out_bytes" \
  "$work"/family/base "$work"/family/ft-1 "$work"/family/ft-2 "$work"/family/ft-3 >&2
floor_end=$(date +%s.%N)
sync
merge_start=$(date +%s.%N)
./amalgam merge "$work/family/ties.yaml" "$work/merged" --force --max-shard-size 1GB >&2
merge_end=$(date +%s.%N)
awk -v fs="$floor_start" -v fe="$floor_end" -v ms="$merge_start" -v me="$merge_end" 'BEGIN {
  floor = fe - fs; merge = me - ms
  printf "| TIES, 4 × ~0.95B BF16 (3 fine-tunes + base), density 0.3 | %.1f s | %.1f s | %.2f× |\n", merge, floor, merge / floor }'
