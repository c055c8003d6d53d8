#!/usr/bin/env bash
# Runs Amalgam's GPU tests and GPU benchmarks from prebuilt jars, without Maven, on a machine
# with an NVIDIA GPU.
#
#   On the build machine (has Maven; nvcc for the fatbin):   java-bindings/run-gpu-suite.sh stage
#       builds core, native-build (the fatbin), java-bindings and benchmarks, and stages under .gpu/:
#       the jars (core's test-jar with the shared KernelBackendContract included), the compiled
#       java-bindings tests, JCuda and its Linux natives (for the JCuda adapter's GPU test), JMH,
#       the JUnit console launcher and this script.
#   On the GPU machine (has a JDK 25 and the NVIDIA driver):
#       JAVA_HOME=/path/to/jdk-25 .gpu/run-gpu-suite.sh run            # tests
#       JAVA_HOME=/path/to/jdk-25 .gpu/run-gpu-suite.sh bench [JMH…]   # CudaGtaBenchmark
#       (or, in a checkout that was staged: JAVA_HOME=... java-bindings/run-gpu-suite.sh run|bench)
#
# `run` runs every test class of dev.amalgam.cuda (GPU contract suites, JCuda adapter, host tests)
# with -Damalgam.requireGpu=true, so a missing GPU FAILS instead of skipping; it writes JUnit XML
# reports to .gpu/reports (or $AMALGAM_GPU_REPORTS) and prints a summary table last.
# `bench` runs the JMH benchmark (default: all parameters, 2 warmup and 3 measured iterations;
# extra arguments go to JMH, e.g. `-p models=2,3,4,5,6,7,8`), keeps its log and CSV in
# .gpu/bench (or $AMALGAM_GPU_BENCH) and prints a table of bytes moved and GB/s last.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-run}
[ $# -gt 0 ] && shift
junit_version=1.11.4
jcuda_version=12.6.0
jmh_version=1.37

if [ "$mode" = "stage" ]; then
  root=$(cd "$here/.." && pwd)
  stage="$root/.gpu"
  cd "$root"
  source scripts/java-home.sh
  ./mvnw -B -q -pl java-bindings,benchmarks -am package -DskipTests   # compiles the test classes, runs none
  rm -rf "$stage"; mkdir -p "$stage/lib" "$stage/kernels-cuda"
  cp core/target/amalgam-core-*.jar native-build/target/amalgam-native-build-*.jar \
     java-bindings/target/amalgam-java-bindings-*.jar benchmarks/target/amalgam-benchmarks-*.jar "$stage/lib/"
  ls "$stage"/lib/amalgam-core-*-tests.jar >/dev/null   # the shared contract suite must be there
  cp -r java-bindings/target/test-classes "$stage/test-classes"
  cp -r kernels-cuda/src "$stage/kernels-cuda/src"
  # the JUnit launcher, JCuda with its Linux natives, JMH 1.37 with its two dependencies
  for artifact in org.junit.platform:junit-platform-console-standalone:$junit_version \
                  org.jcuda:jcuda:$jcuda_version org.jcuda:jcuda-natives:$jcuda_version:jar:linux-x86_64 \
                  org.openjdk.jmh:jmh-core:$jmh_version net.sf.jopt-simple:jopt-simple:5.0.4 \
                  org.apache.commons:commons-math3:3.6.1; do
    ./mvnw -B -q -N dependency:copy -Dartifact="$artifact" -DoutputDirectory="$stage/lib" -Dmdep.useBaseVersion=true
  done
  cp "$0" "$stage/run-gpu-suite.sh"
  if unzip -l "$stage"/lib/amalgam-native-build-*.jar amalgam-cuda/amalgam.fatbin >/dev/null 2>&1; then
    echo "staged $stage (with amalgam.fatbin)"
  else
    echo "staged $stage — WARNING: amalgam.fatbin is absent (nvcc not on PATH at build time): the GPU tests will fail"
  fi
  exit 0
fi

if [ "$mode" != "run" ] && [ "$mode" != "bench" ]; then echo "usage: $0 stage|run|bench [JMH args]" >&2; exit 2; fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [ -d "$here/lib" ]; then                                   # a staged .gpu/ directory
  stage="$here"; tests="$here/test-classes"
else                                                          # a checkout that was staged
  root=$(cd "$here/.." && pwd)
  stage="$root/.gpu"; tests="$root/java-bindings/target/test-classes"
fi
lib="$stage/lib"; kernels="$stage/kernels-cuda"
if [ ! -d "$lib" ]; then echo "no $lib: run '$0 stage' on the build machine first" >&2; exit 2; fi
jvm=(--enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector)
echo "java: $("$java" -version 2>&1 | head -1)"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L || echo "nvidia-smi: not found"

if [ "$mode" = "bench" ]; then
  out=${AMALGAM_GPU_BENCH:-$stage/bench}
  mkdir -p "$out"
  cp=$(ls "$lib"/*.jar | grep -v -e console-standalone -e '\-tests.jar' | tr '\n' ':')
  args=("$@")
  [ ${#args[@]} -eq 0 ] && args=(-wi 2 -i 3)
  set +e
  "$java" "${jvm[@]}" -Duser.language=en -Duser.country=US -cp "$cp" dev.amalgam.benchmarks.CudaGtaBenchmark dev.amalgam.benchmarks.CudaGtaBenchmark \
      -rf csv -rff "$out/jmh.csv" "${args[@]}" 2>&1 | tee "$out/bench.log"
  status=${PIPESTATUS[0]}
  set -e
  echo
  echo "==================== Amalgam GPU benchmarks ===================="
  grep -m1 "AMALGAM-BENCH device" "$out/bench.log" | sed 's/AMALGAM-BENCH device //' || true
  # Kernel lines (device time from CUDA events) and, for the TIES pass, JMH's end-to-end time per call.
  awk -F, '
    FNR == NR {                       # jmh.csv: "Benchmark",…,"Score",…,"Param: …"
      for (i = 1; i <= NF; i++) gsub(/"/, "", $i)
      if (FNR == 1) { for (i = 1; i <= NF; i++) col[$i] = i; next }
      if ($1 ~ /tiesPass$/) e2e[$col["Param: models"] " " $col["Param: elements"] " " $col["Param: dtype"]] = $col["Score"]
      next
    }
    /AMALGAM-BENCH kernel=/ {          # a forked JVM line, possibly after JMH progress text
      k = split(substr($0, index($0, "AMALGAM-BENCH")), w, " ")
      for (i = 2; i <= k; i++) { split(w[i], kv, "="); v[kv[1]] = kv[2] }
      row[++rows] = v["kernel"] " " v["T"] " " v["n"] " " v["dtype"] " " v["bytes"] " " v["ms"] " " v["GBps"]
      if (v["kernel"] == "copy") copy = v["GBps"]
    }
    END {
      printf "%-7s %2s %10s %5s %12s %9s %8s %7s %12s\n", "kernel", "T", "elements", "dtype", "bytes", "ms", "GB/s", "%copy", "pass GB/s"
      for (r = 1; r <= rows; r++) {
        split(row[r], f, " ")
        pct = copy > 0 ? sprintf("%.0f%%", 100 * f[7] / copy) : "-"
        key = f[2] " " f[3] " " f[4]; pass = "-"
        if (f[1] == "merge" && (key in e2e) && e2e[key] > 0) pass = sprintf("%.1f", f[5] / (e2e[key] * 1e6))
        printf "%-7s %2s %10s %5s %12s %9s %8s %7s %12s\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7], pct, pass
      }
      print "merge/stats/select: CUDA-event device time per call; copy: cuMemcpyDtoD, read + write."
      print "Targets (issue 3): merge >= 80% of copy; select bytes are one read of its input, so"
      print "<= 2x one read means select >= 50% of copy. pass GB/s: merge bytes / JMH time of a gtaOnDevice call."
    }' FS=, "$out/jmh.csv" FS=' ' "$out/bench.log" 2>/dev/null || echo "(no results: see $out/bench.log)"
  echo "result: $([ "$status" -eq 0 ] && echo DONE || echo FAILED) (exit $status); log and CSV in $out"
  exit "$status"
fi

reports=${AMALGAM_GPU_REPORTS:-$stage/reports}
console=$(ls "$lib"/junit-platform-console-standalone-*.jar 2>/dev/null | head -1 || true)
if [ -z "$console" ]; then echo "no junit-platform-console-standalone jar in $lib: run '$0 stage' first" >&2; exit 2; fi
cp=$(ls "$lib"/*.jar | grep -v -e console-standalone -e amalgam-benchmarks | tr '\n' ':')"$tests"
rm -rf "$reports"; mkdir -p "$reports"
set +e
# PanamaCudaDriverStubTest (C compiler, test sources) and FatbinResourceTest (the native-build tree)
# check the build, not the GPU: they run in the Maven build only.
"$java" "${jvm[@]}" -Xmx8g -Damalgam.requireGpu=true -Damalgam.kernelsDir="$kernels" \
    -jar "$console" execute --class-path "$cp" --reports-dir "$reports" --details=tree --disable-banner \
    --select-package dev.amalgam.cuda --exclude-classname '.*(PanamaCudaDriverStubTest|FatbinResourceTest)'
status=$?
set -e

# Summary table (last): one row per test class from the JUnit XML report.
xml=$(ls "$reports"/*.xml 2>/dev/null | head -1 || true)
echo
echo "==================== Amalgam GPU suite ===================="
printf "%-34s %6s %6s %6s %6s\n" "test class" "tests" "passed" "failed" "skipped"
if [ -n "$xml" ]; then
  awk '
    /<testcase / { match($0, /classname="[^"]*"/); c = substr($0, RSTART + 11, RLENGTH - 12); sub(/.*\./, "", c);
                   cls[c] = 1; n[c]++; cur = c }
    /<failure|<error/ { f[cur]++ }
    /<skipped/ { s[cur]++ }
    END { for (c in cls) { printf "%-34s %6d %6d %6d %6d\n", c, n[c], n[c] - f[c] - s[c], f[c], s[c];
                           T += n[c]; F += f[c]; S += s[c] }
          printf "%-34s %6d %6d %6d %6d\n", "TOTAL", T, T - F - S, F, S }' "$xml"
fi
echo "result: $([ $status -eq 0 ] && echo PASSED || echo FAILED) (exit $status); reports in $reports"
exit $status
