#!/usr/bin/env bash
# Compiles the kernels of kernels-cuda/src for the host through the SIMT shim (kernels-cuda/host)
# into the CPU-backed libcuda stand-in, and runs the host kernel tests: with the fibers back end,
# and, unless AMALGAM_SANITIZERS=0, under ThreadSanitizer (one thread per CUDA thread) and
# AddressSanitizer. Any test failure or sanitizer report fails the build.
# Run by Maven (native-build/pom.xml, phase generate-resources); usable by hand:
#
#   native-build/build-host-kernels.sh <kernels-cuda dir> <output dir>
#
# - The stand-in is <output dir>/libamalgam-cuda-emu.so (SONAME libcuda.so.1); java-bindings'
#   tests load it through -Damalgam.cuda.emulator when no GPU is present. It is not packaged.
# - Without g++ (C++20) the build succeeds and says so; the CUDA tests then skip with the reason.
# - Outputs are rebuilt only when a source, this script or the compiler changed (a stamp).
set -euo pipefail

kernels_dir=$(cd "${1:?kernels-cuda dir}" && pwd)
out=${2:?output dir}
mkdir -p "$out"
out=$(cd "$out" && pwd)
host="$kernels_dir/host"
say() { echo "[amalgam host-kernels] $*"; }

cxx=""
for c in "${CXX:-}" g++; do
  if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then cxx=$c; break; fi
done
if [ -z "$cxx" ]; then
  rm -f "$out/libamalgam-cuda-emu.so"
  say "no g++ on PATH: the CUDA emulator was NOT built (CUDA tests without a GPU will skip)"; exit 0
fi

common=(-std=c++20 -ffp-contract=off -pthread -Wall -Wextra -Werror -Wno-unknown-pragmas -I "$host/include")
stamp=$( { "$cxx" --version; echo "${common[*]} ${AMALGAM_SANITIZERS:-1}"; cat "$kernels_dir"/src/*.cu "$kernels_dir"/src/*.cuh \
           "$host"/*.hpp "$host"/*.cpp "$host"/include/*.h "$host"/test/*.cpp "$0"; } | sha256sum | cut -d' ' -f1)
if [ -f "$out/stamp" ] && [ "$(cat "$out/stamp")" = "$stamp" ] && [ -f "$out/libamalgam-cuda-emu.so" ]; then
  say "up to date ($out)"; exit 0
fi
rm -f "$out/stamp"

elapsed() { awk -v a="$1" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'; }

# Each step runs in the background so the two cores work at once; wait collects them in order.
t0=$(date +%s%N)
"$cxx" "${common[@]}" -O2 -fPIC -shared -fvisibility=hidden -Wl,-soname,libcuda.so.1 -Wl,--no-undefined \
    "$host/kernels_host.cpp" "$host/cuda_emu.cpp" -o "$out/libamalgam-cuda-emu.so" 2> "$out/emu.log" &
emu_pid=$!
"$cxx" "${common[@]}" -O2 "$host/test/host_kernel_tests.cpp" -o "$out/host_kernel_tests" 2> "$out/tests.log" &
tests_pid=$!
status=0
wait $emu_pid || { cat "$out/emu.log"; say "FAILED to compile the CUDA emulator"; status=1; }
wait $tests_pid || { cat "$out/tests.log"; say "FAILED to compile the host kernel tests"; status=1; }
[ $status -eq 0 ] || exit 1
say "compiled the emulator and the host tests (-O2, fibers) in $(elapsed "$t0")s"

run_tests() {  # name binary [env...]
  local name=$1 bin=$2; shift 2
  local t=$(date +%s%N)
  if env "$@" "$bin" > "$out/$name.txt" 2>&1; then
    say "host kernel tests ($name): $(tail -1 "$out/$name.txt") in $(elapsed "$t")s"
  else
    cat "$out/$name.txt"; say "host kernel tests ($name) FAILED"; return 1
  fi
}
run_tests fibers "$out/host_kernel_tests"
run_tests fibers-small "$out/host_kernel_tests" AMALGAM_HOST_TESTS=small

if [ "${AMALGAM_SANITIZERS:-1}" != "0" ]; then
  t0=$(date +%s%N)
  "$cxx" "${common[@]}" -O1 -g -DAMALGAM_SIMT_THREADS -fsanitize=thread "$host/test/host_kernel_tests.cpp" \
      -o "$out/host_kernel_tests_tsan" 2> "$out/tsan-build.log" &
  tsan_pid=$!
  "$cxx" "${common[@]}" -O1 -g -DAMALGAM_SIMT_THREADS -fsanitize=address,undefined -fno-sanitize-recover=all \
      "$host/test/host_kernel_tests.cpp" -o "$out/host_kernel_tests_asan" 2> "$out/asan-build.log" &
  asan_pid=$!
  wait $tsan_pid || { cat "$out/tsan-build.log"; say "FAILED to compile with -fsanitize=thread (is libtsan installed?)"; exit 1; }
  wait $asan_pid || { cat "$out/asan-build.log"; say "FAILED to compile with -fsanitize=address (is libasan installed?)"; exit 1; }
  say "compiled the sanitizer builds in $(elapsed "$t0")s"
  # halt_on_error: the first report fails the run; the threads back end makes every CUDA thread an OS thread.
  run_tests tsan "$out/host_kernel_tests_tsan" TSAN_OPTIONS="halt_on_error=1 exitcode=66 report_signal_unsafe=0" AMALGAM_HOST_TESTS=small
  run_tests asan "$out/host_kernel_tests_asan" ASAN_OPTIONS="halt_on_error=1 detect_leaks=1" UBSAN_OPTIONS="halt_on_error=1 print_stacktrace=1" AMALGAM_HOST_TESTS=small
  # The kernels are deterministic: one OS thread per CUDA thread must give the fibers' results.
  for run in tsan asan; do
    if ! diff <(grep '^digest' "$out/fibers-small.txt") <(grep '^digest' "$out/$run.txt") > "$out/$run.digest-diff"; then
      cat "$out/$run.digest-diff"; say "the $run run (threads back end) differs from the fibers run"; exit 1
    fi
  done
  # The sanitizer run must be able to fail: a kernel with a missing __syncthreads is a reported race.
  if env TSAN_OPTIONS="halt_on_error=1 exitcode=66" AMALGAM_HOST_TESTS=race "$out/host_kernel_tests_tsan" > "$out/tsan-race.txt" 2>&1 \
     || ! grep -q 'ThreadSanitizer: data race' "$out/tsan-race.txt"; then
    cat "$out/tsan-race.txt"; say "ThreadSanitizer did NOT report the race of the missing-__syncthreads probe kernel"; exit 1
  fi
  say "ThreadSanitizer reports the missing-__syncthreads probe kernel (as it must)"
else
  say "sanitizer runs skipped (AMALGAM_SANITIZERS=0)"
fi
echo "$stamp" > "$out/stamp"
say "built $out/libamalgam-cuda-emu.so"
