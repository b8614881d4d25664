#!/usr/bin/env bash
# The GPU check of issue 18, run on the GPU machine from the repository root in about 8 min:
#   CUDA seen; solver parity on 16 paper-law 160² structures against the plain CPU
#   solver's anchors (tests/reference/solver/plain_160_16.json, computed on the CPU with
#   `coercive bench solver --structures 16 --write-anchors FILE`); curves/s and GPU memory
#   at batch 64, 256 and 1 024; VAE (Table 1, 160², batch 64) and regressor (Table 2, batch
#   16) training samples/s against PyTorch eager on the same GPU in the same run.
# Needs a stripped `cargo build --release --features cuda` binary at .device/coercive (or
# COERCIVE_BIN) and a python with torch (TORCH_PYTHON, default /opt/torch/.venv/bin/python).
# Details go to $OUT (default ./device-check); the short table is printed last.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT="${OUT:-$PWD/device-check}"
mkdir -p "$OUT"
PY="${TORCH_PYTHON:-/opt/torch/.venv/bin/python}"
[ -x "$PY" ] || PY=python3
export TORCH_PYTHON="$PY"
C="${COERCIVE:-scripts/device/coercive}"   # target/release/coercive for a CPU trial
# Smaller settings (e.g. DEVICE=cpu N=32 PARITY=2 B1=2 B2=4 B3=8 with an anchors file
# from --write-anchors) try the script out on a CPU.
DEVICE="${DEVICE:-cuda}" N="${N:-160}" PARITY="${PARITY:-16}" B1="${B1:-64}" B2="${B2:-256}" B3="${B3:-1024}"
ANCHORS="${ANCHORS:-tests/reference/solver/plain_160_16.json}"
NET_STEPS_VAE="${NET_STEPS_VAE:-50}" NET_STEPS_REGRESSOR="${NET_STEPS_REGRESSOR:-1000}"
# A device's 10-minute command limit: SECTIONS="cuda solver" in one call, "networks" in the next.
SECTIONS="${SECTIONS:-cuda solver networks}"
T0=$(date +%s)
on() { [[ " $SECTIONS " == *" $1 "* ]]; }
step() { echo "== $1 ($(( $(date +%s) - T0 )) s)" >&2; }

if on cuda; then
step "CUDA"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >"$OUT/gpu.txt" 2>&1 || true
"$PY" -c 'import torch; p = torch.cuda.get_device_properties(0); print(f"torch {torch.__version__}: {p.name}, {p.total_memory / 2**30:.1f} GiB")' >>"$OUT/gpu.txt" 2>&1
"$C" --device "$DEVICE" eval '"coercive runs on '"$DEVICE"'"' >>"$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt" >&2
fi

if on solver; then
step "solver: parity on $PARITY structures, then curves/s at batch 64, 256, 1024"
timeout 120 "$C" --device "$DEVICE" bench solver --n "$N" --structures "$PARITY" --batch "$PARITY" \
  --anchors "$ANCHORS" >"$OUT/solver_parity.txt" 2>&1
# Each batch size gets four batches' worth of structures (1 024 alone for the largest).
timeout 180 "$C" --device "$DEVICE" bench solver --n "$N" --structures $((4 * B1)) --batch "$B1,$B2" \
  >"$OUT/solver_throughput.txt" 2>&1
timeout 180 "$C" --device "$DEVICE" bench solver --n "$N" --structures "$B3" --batch "$B3" \
  >"$OUT/solver_throughput_large.txt" 2>&1
fi

if on networks; then
step "networks: coercive and PyTorch eager on the same GPU"
for net in vae regressor; do
  steps=$([ $net = vae ] && echo "$NET_STEPS_VAE" || echo "$NET_STEPS_REGRESSOR")
  timeout 60 "$C" --quiet --device "$DEVICE" --threads 4 bench $net --steps $steps >"$OUT/$net.coercive.txt" 2>&1
  timeout 60 "$PY" scripts/bench/pytorch_reference.py $net --device "$DEVICE" --threads 4 --steps $steps \
    >"$OUT/$net.pytorch.txt" 2>&1
done
fi

step "summary"
{
  echo "| what | figure |"
  echo "|---|---|"
  [ -f "$OUT/gpu.txt" ] && echo "| device | $(grep -m1 '^torch ' "$OUT/gpu.txt" || head -1 "$OUT/gpu.txt") |"
  grep -sh 'within 1e-3' "$OUT/solver_parity.txt" | sed 's/^/| solver parity | /; s/$/ |/'
  # batch, seconds, curves/s, evaluations, not converged, µs/eval, memory MiB
  awk '$1 ~ /^[0-9]+$/ && NF >= 7 { printf "| solver batch %s | %s curves/s, %s µs/eval/structure, %s MiB, %s not converged |\n", $1, $3, $6, $7, $5 }' \
    "$OUT/solver_throughput.txt" "$OUT/solver_throughput_large.txt" 2>/dev/null
  for net in vae regressor; do
    [ -f "$OUT/$net.coercive.txt" ] || continue
    c=$(grep -ho 'samples_per_s=[0-9.]*' "$OUT/$net.coercive.txt" | cut -d= -f2)
    p=$(grep -ho 'samples_per_s=[0-9.]*' "$OUT/$net.pytorch.txt" | cut -d= -f2)
    r=$(awk -v c="${c:-0}" -v p="${p:-0}" 'BEGIN { if (p > 0) printf "%.2f", c / p; else print "n/a" }')
    echo "| $net training samples/s | coercive ${c:-failed}, PyTorch ${p:-failed}, ratio $r |"
  done
  echo "| wall time of the check | $(( $(date +%s) - T0 )) s |"
} | tee "$OUT/summary.md"
