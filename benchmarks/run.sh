#!/usr/bin/env bash
# Runs the JMH suite with settings that finish in under 10 minutes on a 2-core machine and writes
# benchmarks/results/*.json (JMH -rf json) plus the Markdown table benchmarks/RESULTS.md.
# Usage: benchmarks/run.sh            (builds benchmarks/target/benchmarks.jar if missing)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/java-home.sh
JAR=benchmarks/target/benchmarks.jar
OUT=benchmarks/results
if [ ! -f "$JAR" ]; then ./mvnw -B -q -pl benchmarks -am package -DskipTests; fi
rm -rf "$OUT"; mkdir -p "$OUT"
# The machine is shared: sample the 1-minute load average every 10 s for the table.
( while true; do cut -d' ' -f1 /proc/loadavg >> "$OUT/loadavg.txt"; sleep 10; done ) &
SAMPLER=$!
trap 'kill $SAMPLER 2>/dev/null || true' EXIT

# Benchmark only the backends usable here (e.g. no cuda without a GPU); reasons go to skipped.txt.
USABLE=$(java --add-modules jdk.incubator.vector -cp "$JAR" dev.amalgam.benchmarks.UsableBackends 2>"$OUT/skipped.txt")
FAST=$(echo "$USABLE" | tr ',' '\n' | grep -v '^reference$' | paste -sd, -)
COMMON=(-f 1 -wi 2 -i 3 -w 1s -r 1s)
SMALL=1048576

jmh() {
  local name=$1; shift
  echo "== $name: java -jar $JAR $* ${COMMON[*]}" | tee -a "$OUT/commands.txt"
  java -jar "$JAR" "$@" "${COMMON[@]}" -rf json -rff "$OUT/$name.json" > "$OUT/$name.log" 2>&1
  grep -E '^(Benchmark|[A-Za-z]+Benchmark\.)' "$OUT/$name.log" || true
}

jmh copy MemoryCopyBenchmark
if [ -n "$FAST" ]; then
  jmh fast 'GtaBenchmark|SelectionBenchmark' -p backend="$FAST"
  jmh linear-fast LinearBenchmark -p backend="$FAST" -p models=2,8
fi
# The reference is ~10-300x slower: 1M elements and T = 4 only (the "x ref" column).
jmh reference 'GtaBenchmark|SelectionBenchmark' -p backend=reference -p size=$SMALL -p models=4
jmh linear-reference LinearBenchmark -p backend=reference -p size=$SMALL -p models=2,8

kill $SAMPLER 2>/dev/null || true
# Sections other runners maintain (## SVD, ## End-to-end merge, ## GPU, ## Interpolation …) are kept as they are.
kept=$(mktemp)
[ -f benchmarks/RESULTS.md ] && awk '/^## (SVD|End-to-end|GPU|Interpolation)/ {keep = 1} keep' benchmarks/RESULTS.md > "$kept"
python3 benchmarks/results_table.py "$OUT" "$0" benchmarks/baseline > benchmarks/RESULTS.md
if [ -s "$kept" ]; then { echo; cat "$kept"; } >> benchmarks/RESULTS.md; fi
rm -f "$kept"
echo "wrote benchmarks/RESULTS.md"
