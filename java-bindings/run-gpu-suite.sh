#!/usr/bin/env bash
# Runs Amalgam's GPU tests from prebuilt jars, without Maven, on a machine with an NVIDIA GPU.
#
#   On the build machine (has Maven and nvcc):   java-bindings/run-gpu-suite.sh stage
#       builds core, native-build (the fatbin) and java-bindings, and stages under .gpu/:
#       the jars, the compiled test classes, the JUnit console launcher and this script.
#   On the GPU machine (has a JDK 25 and the NVIDIA driver):
#       JAVA_HOME=/path/to/jdk-25 .gpu/run-gpu-suite.sh run
#       (or, in a checkout with a built tree: JAVA_HOME=... java-bindings/run-gpu-suite.sh run)
#
# `run` sets -Damalgam.requireGpu=true, so a missing GPU FAILS instead of skipping; it writes
# JUnit XML reports to .gpu/reports (or $AMALGAM_GPU_REPORTS) and prints a summary table last.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mode=${1:-run}
junit_version=1.11.4

if [ "$mode" = "stage" ]; then
  root=$(cd "$here/.." && pwd)
  stage="$root/.gpu"
  cd "$root"
  [ -f .ci/java-home.sh ] && source .ci/java-home.sh
  ./mvnw -B -q -pl java-bindings -am package -DskipTests   # compiles the test classes, runs none
  rm -rf "$stage"; mkdir -p "$stage/lib" "$stage/kernels-cuda"
  cp core/target/amalgam-core-*.jar native-build/target/amalgam-native-build-*.jar java-bindings/target/amalgam-java-bindings-*.jar "$stage/lib/"
  rm -f "$stage"/lib/*-tests.jar
  if [ -f core/target/amalgam-core-0.1.0-SNAPSHOT-tests.jar ]; then cp core/target/amalgam-core-*-tests.jar "$stage/lib/"; fi
  cp -r java-bindings/target/test-classes "$stage/test-classes"
  cp -r kernels-cuda/src "$stage/kernels-cuda/src"
  ./mvnw -B -q dependency:copy -Dartifact=org.junit.platform:junit-platform-console-standalone:$junit_version \
      -DoutputDirectory="$stage/lib" -Dmdep.useBaseVersion=true
  cp "$0" "$stage/run-gpu-suite.sh"
  if unzip -l "$stage"/lib/amalgam-native-build-*.jar dev/amalgam/cuda/amalgam.fatbin >/dev/null 2>&1; then
    echo "staged $stage (with amalgam.fatbin)"
  else
    echo "staged $stage — WARNING: amalgam.fatbin is absent (nvcc not on PATH at build time): the GPU tests will fail"
  fi
  exit 0
fi

if [ "$mode" != "run" ]; then echo "usage: $0 stage|run" >&2; exit 2; fi
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [ -d "$here/lib" ]; then                                   # a staged .gpu/ directory
  lib="$here/lib"; tests="$here/test-classes"; kernels="$here/kernels-cuda"; reports=${AMALGAM_GPU_REPORTS:-$here/reports}
else                                                          # a checkout with built modules
  root=$(cd "$here/.." && pwd)
  lib="$root/.gpu/lib"; tests="$root/java-bindings/target/test-classes"; kernels="$root/kernels-cuda"
  reports=${AMALGAM_GPU_REPORTS:-$root/.gpu/reports}
  mkdir -p "$lib"
  cp "$root"/core/target/amalgam-core-*.jar "$root"/native-build/target/amalgam-native-build-*.jar \
     "$root"/java-bindings/target/amalgam-java-bindings-*.jar "$lib/" 2>/dev/null || true
fi
console=$(ls "$lib"/junit-platform-console-standalone-*.jar 2>/dev/null | head -1 || true)
if [ -z "$console" ]; then echo "no junit-platform-console-standalone jar in $lib: run '$0 stage' first" >&2; exit 2; fi
cp=$(ls "$lib"/amalgam-*.jar | grep -v console | tr '\n' ':')"$tests"
rm -rf "$reports"; mkdir -p "$reports"

echo "java: $("$java" -version 2>&1 | head -1)"
command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L || echo "nvidia-smi: not found"
set +e
"$java" --enable-native-access=ALL-UNNAMED --add-modules jdk.incubator.vector -Xmx8g \
    -Damalgam.requireGpu=true -Damalgam.kernelsDir="$kernels" \
    -jar "$console" execute --class-path "$cp" --reports-dir "$reports" --details=tree --disable-banner \
    --select-class dev.amalgam.cuda.CudaKernelsGpuTest \
    --select-class dev.amalgam.cuda.CudaKernelProviderTest \
    --select-class dev.amalgam.cuda.CudaKernelsEmulatedTest \
    --select-class dev.amalgam.cuda.ChunkPlanTest \
    --select-class dev.amalgam.cuda.internal.CudaErrorMappingTest \
    --select-class dev.amalgam.cuda.internal.TieCutoffTest \
    --select-class dev.amalgam.cuda.internal.KernelLayoutsTest \
    --select-class dev.amalgam.cuda.CudaSvdContractTest \
    --select-class dev.amalgam.cuda.CudaSvdGpuPathsTest \
    --select-class dev.amalgam.cuda.CudaSvdKernelsEmulatedTest \
    --select-class dev.amalgam.cuda.internal.SvdLayoutsTest
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
                   cls[c] = 1; n[c]++; cur = c; open = ($0 !~ /\/>[ \t]*$/) }
    /<failure|<error/ { f[cur]++ }
    /<skipped/ { s[cur]++ }
    END { for (c in cls) { printf "%-34s %6d %6d %6d %6d\n", c, n[c], n[c] - f[c] - s[c], f[c], s[c];
                           T += n[c]; F += f[c]; S += s[c] }
          printf "%-34s %6d %6d %6d %6d\n", "TOTAL", T, T - F - S, F, S }' "$xml"
fi
echo "result: $([ $status -eq 0 ] && echo PASSED || echo FAILED) (exit $status); reports in $reports"
exit $status
