#!/usr/bin/env python3
"""Turns the JMH JSON files of benchmarks/run.sh into benchmarks/RESULTS.md (stdout)."""
import datetime, glob, json, os, platform, subprocess, sys

out_dir, script = sys.argv[1], sys.argv[2]
baseline_dir = sys.argv[3] if len(sys.argv) > 3 else None

def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()
    except Exception:
        return "?"

def load(directory):
    rows = []
    for path in sorted(glob.glob(os.path.join(directory, "*.json"))):
        rows.extend(json.load(open(path)))
    return rows

def parse(results):
    rows = []
    for r in results:
        ops = r["primaryMetric"]["score"]
        sec = r.get("secondaryMetrics", {}).get("bytes")
        rows.append({
            "bench": r["benchmark"].split(".")[-2],
            "params": r.get("params", {}),
            "ms": 1000.0 / ops if ops > 0 else float("nan"),
            "gbs": sec["score"] / 1e9 if sec else float("nan"),
            "jvm": r.get("vmVersion", "?"),
        })
    return rows

rows = parse(load(out_dir))
before = parse(load(baseline_dir)) if baseline_dir else []

copies = [r for r in rows if r["bench"] == "MemoryCopyBenchmark"]
copy_bw = max((r["gbs"] for r in copies), default=float("nan"))

def key(r, **override):
    p = dict(r["params"]); p.update(override)
    return (r["bench"], tuple(sorted(p.items())))

by_key = {key(r): r for r in rows}
before_key = {key(r): r for r in before}
family = {"GtaBenchmark": "gta", "SelectionBenchmark": "selectLargest", "LinearBenchmark": "linear"}

print("# Benchmark results\n")
print("Produced by `benchmarks/run.sh` (JMH, throughput mode; ms/op = 1/score). GB/s counts the bytes that")
print("must move: every input read once + the output written once. Memory-copy bandwidth is")
print("`MemorySegment.copy` of a 256 MiB off-heap buffer, counted the same way (read + write).\n")
print(f"- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}")
model = sh("lscpu | sed -n 's/^Model name: *//p'")
memory = sh("free -g | awk '/^Mem:/{print $2}'")
try:
    samples = [float(x) for x in open(os.path.join(out_dir, "loadavg.txt")).read().split()]
    load_text = f"{min(samples):.1f}–{max(samples):.1f} (1-minute average sampled every 10 s, median {sorted(samples)[len(samples) // 2]:.1f})"
except (OSError, ValueError):
    load_text = sh("cut -d' ' -f1-3 /proc/loadavg")
jvm = rows[0]["jvm"] if rows else "?"
print(f"- Machine: {model}, {os.cpu_count()} cores, {memory} GiB memory, {platform.system()} {platform.release()}")
print(f"- JVM: {jvm}; load average during the run: {load_text} on {os.cpu_count()} cores (the machine is shared with other jobs)")
print(f"- Command: `{script}`; the JMH invocations it ran:")
print("```")
print(open(os.path.join(out_dir, "commands.txt")).read().strip())
print("```")
skipped = "; ".join(l.strip() for l in open(os.path.join(out_dir, "skipped.txt")) if l.startswith("skipping"))
if skipped:
    print(f"- Skipped: {skipped}")
print("\n## Memory copy\n")
print("| threads | ms/op | GB/s |\n|---|---:|---:|")
for r in copies:
    print(f"| {r['params'].get('threads')} | {r['ms']:.1f} | {r['gbs']:.2f} |")
print(f"\nCopy bandwidth used as 100%: **{copy_bw:.2f} GB/s** (the best of the above).\n")
print("## Kernels\n")
print("`x ref` = speed-up over the reference backend at the same parameters (measured at 1M elements, T = 4 and")
print("linear T = 2, 8 only). `before` = ms/op of the same benchmark before the fast backend's rewrite")
print("(`benchmarks/baseline/`, a run at load 5–7 with 1 warm-up + 2 iterations; compare with care).\n")
print("| kernel | method | backend | dtype | T | elements | ms/op | GB/s | % of copy | x ref | before ms/op |")
print("|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|")
order = {"selectLargest": 0, "gta": 1, "linear": 2}
kernel_rows = [r for r in rows if r["bench"] in family]
kernel_rows.sort(key=lambda r: (order[family[r["bench"]]], r["params"].get("method", ""), r["params"].get("dtype"),
                                int(r["params"].get("models", 1)), int(r["params"]["size"]), r["params"]["backend"]))
for r in kernel_rows:
    p = r["params"]
    ref = by_key.get(key(r, backend="reference"))
    speedup = f"{ref['ms'] / r['ms']:.1f}" if ref and p["backend"] != "reference" else ""
    old = before_key.get(key(r)) if p["backend"] != "reference" else None
    was = f"{old['ms']:.2f}" if old else ""
    print(f"| {family[r['bench']]} | {p.get('method', '')} | {p['backend']} | {p['dtype']} | {p.get('models', 1)} | "
          f"{int(p['size']):,} | {r['ms']:.2f} | {r['gbs']:.2f} | {100 * r['gbs'] / copy_bw:.0f}% | {speedup} | {was} |")
