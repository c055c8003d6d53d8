#!/usr/bin/env bash
# Builds the CUDA kernels of kernels-cuda into ONE fatbin, packaged as the classpath resource
# amalgam-cuda/amalgam.fatbin, and runs the host C++ tests of the shared device math.
# Run by Maven (native-build/pom.xml, phase generate-resources); usable by hand:
#
#   native-build/build-fatbin.sh <kernels-cuda dir> <resource output dir> <report dir> [classes dir]
#
# - Without nvcc on PATH the build succeeds and says that the CUDA backend was not built
#   (the resource is then absent, and CudaKernelProvider reports exactly that).
# - SASS for sm_80 sm_86 sm_89 sm_90 sm_100 sm_120 plus PTX for the newest; an arch this nvcc
#   does not know is dropped with a message.
# - The ptxas resource report is kept (report dir and resource); the build FAILS if any kernel
#   spills registers or uses a stack frame (local memory).
# - AMALGAM_CUDA_SKIP=1 skips nvcc; AMALGAM_NVCC_THREADS sets nvcc --threads (default 0 = all cores).
set -euo pipefail

kernels_dir=$(cd "${1:?kernels-cuda dir}" && pwd)
resource_dir=${2:?resource output dir}
report_dir=${3:?report dir}
classes_dir=${4:-}
src="$kernels_dir/src"
fatbin_dir="$resource_dir/amalgam-cuda"
fatbin="$fatbin_dir/amalgam.fatbin"
mkdir -p "$report_dir"
# The fatbin used to lie in the package dev.amalgam.cuda (split with the bindings module): drop leftovers.
rm -rf "$resource_dir/dev/amalgam/cuda"; if [ -n "$classes_dir" ]; then rm -rf "$classes_dir/dev/amalgam/cuda"; fi

say() { echo "[amalgam native-build] $*"; }
# A fatbin from an earlier build must not survive in the classes dir when this build makes none.
drop_fatbin() { rm -f "$fatbin"; if [ -n "$classes_dir" ]; then rm -rf "$classes_dir/amalgam-cuda"; fi; }

# ---- host C++ tests of the device math that also runs on the host (philox.cuh) ----
cxx=""
for c in "${CXX:-}" g++ c++ clang++; do
  if [ -n "$c" ] && command -v "$c" >/dev/null 2>&1; then cxx=$c; break; fi
done
if [ -n "$cxx" ]; then
  "$cxx" -std=c++17 -O2 -Wall -Wextra -Werror "$kernels_dir/test/philox_known_answers.cpp" -o "$report_dir/philox_known_answers"
  if "$report_dir/philox_known_answers" > "$report_dir/philox_known_answers.txt"; then
    say "host test philox_known_answers: $(tail -1 "$report_dir/philox_known_answers.txt")"
  else
    cat "$report_dir/philox_known_answers.txt"
    say "host test philox_known_answers FAILED"; exit 1
  fi
else
  say "no host C++ compiler (g++/c++/clang++): host test philox_known_answers not run"
fi

# ---- the fatbin ----
if [ "${AMALGAM_CUDA_SKIP:-0}" = "1" ]; then
  drop_fatbin
  say "CUDA backend NOT built: AMALGAM_CUDA_SKIP=1"; exit 0
fi
if ! command -v nvcc >/dev/null 2>&1; then
  drop_fatbin
  say "CUDA backend NOT built: nvcc not found on PATH (install a CUDA toolkit to build amalgam.fatbin)"; exit 0
fi

known=$(nvcc --list-gpu-arch 2>/dev/null | tr '\n' ' ')
gencode=()
built=()
newest=""
for sm in 80 86 89 90 100 120; do
  if [[ " $known " == *" compute_$sm "* ]]; then
    gencode+=(-gencode "arch=compute_$sm,code=sm_$sm")
    built+=("sm_$sm")
    newest=$sm
  else
    say "dropping sm_$sm: $(nvcc --version | tail -1) does not support it"
  fi
done
if [ -z "$newest" ]; then say "nvcc supports none of sm_80..sm_120"; exit 1; fi
gencode+=(-gencode "arch=compute_$newest,code=compute_$newest")

flags=(-fatbin -std=c++17 -O3 -fmad=false -Xptxas -v --threads "${AMALGAM_NVCC_THREADS:-0}")
stamp_file="$report_dir/amalgam.fatbin.stamp"
stamp=$( { nvcc --version; echo "${flags[*]} ${gencode[*]}"; cat "$src"/*.cu "$src"/*.cuh "$0"; } | sha256sum | cut -d' ' -f1)
report="$report_dir/ptxas-report.txt"
if [ -f "$fatbin" ] && [ -f "$report" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  say "amalgam.fatbin is up to date (${built[*]} + compute_$newest PTX)"; exit 0
fi

mkdir -p "$fatbin_dir"
started=$(date +%s%N)
if ! nvcc "${flags[@]}" "${gencode[@]}" -I "$src" -o "$fatbin" "$src/amalgam_kernels.cu" > "$report" 2>&1; then
  cat "$report"; rm -f "$fatbin"; say "nvcc FAILED"; exit 1
fi
elapsed=$(awk -v a="$started" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e9 }')

# ---- resource report: one line per (kernel, arch); fail on spills or local memory ----
summary="$report_dir/ptxas-summary.txt"
awk '
  /Compiling entry function/ { split($0, q, "\047"); fn = q[2]; arch = q[4] }
  /bytes stack frame/ { stack = $1; spill_st = $5; spill_ld = $9 }
  /Used [0-9]+ registers/ {
      match($0, /Used [0-9]+ registers/); regs = substr($0, RSTART + 5, RLENGTH - 15);
      smem = 0; if (match($0, /[0-9]+ bytes smem/)) smem = substr($0, RSTART, RLENGTH - 11);
      lmem = 0; if (match($0, /[0-9]+ bytes lmem/)) lmem = substr($0, RSTART, RLENGTH - 11);
      bad = (stack + 0 > 0 || spill_st + 0 > 0 || spill_ld + 0 > 0 || lmem + 0 > 0) ? "SPILLS/LOCAL" : "ok";
      printf "%-30s %-7s regs %3d  smem %5d  stack %3d  spill st/ld %d/%d  lmem %d  %s\n", fn, arch, regs, smem, stack, spill_st, spill_ld, lmem, bad
  }' "$report" > "$summary"
cp "$report" "$fatbin_dir/ptxas-report.txt"
cp "$summary" "$fatbin_dir/ptxas-summary.txt"
cat "$summary"
if [ ! -s "$summary" ]; then say "could not parse the ptxas report $report"; rm -f "$fatbin"; exit 1; fi
if grep -q 'SPILLS/LOCAL' "$summary"; then
  rm -f "$fatbin"
  say "FAILED: a kernel spills registers or uses local memory (see $summary)"; exit 1
fi
echo "$stamp" > "$stamp_file"
say "built amalgam.fatbin ($(stat -c %s "$fatbin") bytes; ${built[*]} + compute_$newest PTX) in ${elapsed}s"
