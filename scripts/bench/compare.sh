#!/usr/bin/env bash
# Training samples/s of coercive against PyTorch eager, interleaved (A B A B …) so that
# other load on the machine hits both alike; prints each run's samples/s line, then the
# median and range per (net, implementation, threads).
#
#   scripts/bench/compare.sh [--device cpu|cuda] [--threads "1 2"] [--repeats 5] \
#       [--coercive BIN]... [--python PY] [--torch-env "VAR=value …"] \
#       [--vae-steps 10] [--regressor-steps 500]
#
# --coercive may be given more than once (e.g. a build before and after a change); each
# is labelled by its path. --torch-env runs the PyTorch reference a second time with those
# environment variables (e.g. coercive's allocator settings, for a like-for-like figure).
set -euo pipefail
cd "$(dirname "$0")/../.."
device=cpu threads="1 2" repeats=5 python=python3 torch_env="" bins=()
vae_steps=10 regressor_steps=500
while [ $# -gt 0 ]; do
  case "$1" in
    --device) device=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    --repeats) repeats=$2; shift 2 ;;
    --coercive) bins+=("$2"); shift 2 ;;
    --python) python=$2; shift 2 ;;
    --torch-env) torch_env=$2; shift 2 ;;
    --vae-steps) vae_steps=$2; shift 2 ;;
    --regressor-steps) regressor_steps=$2; shift 2 ;;
    *) echo "compare.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#bins[@]} -gt 0 ] || bins=(target/release/coercive)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Keeps a run's samples/s sentence (older builds print no bench-summary line), labelled.
record() { grep ' samples/s (' | sed "s|^|$1	|" | tee -a "$log"; }
for r in $(seq "$repeats"); do
  for t in $threads; do
    for net in vae regressor; do
      steps=$([ "$net" = vae ] && echo "$vae_steps" || echo "$regressor_steps")
      for b in "${bins[@]}"; do
        "$b" --quiet --device "$device" --threads "$t" bench "$net" --steps "$steps" |
          record "coercive:$b"
      done
      ref=(scripts/bench/pytorch_reference.py "$net" --device "$device" --threads "$t"
        --steps "$steps")
      "$python" "${ref[@]}" 2>/dev/null | record pytorch
      if [ -n "$torch_env" ]; then
        env $torch_env "$python" "${ref[@]}" 2>/dev/null | record "pytorch+env"
      fi
    done
  done
done
echo "# median [min, max] samples/s over $repeats interleaved runs"
python3 - "$log" <<'EOF'
import collections, re, statistics, sys
runs = collections.defaultdict(list)
pat = re.compile(r"^(\S+)\t(\w+).*? on (\w+) with (\d+) threads?: ([\d.]+) samples/s")
for line in open(sys.argv[1]):
    impl, net, device, t, rate = pat.match(line).groups()
    runs[(net, impl, device, int(t))].append(float(rate))
for (net, impl, device, t), v in sorted(runs.items()):
    print(f"{net:9} {impl:40} {device} threads={t}  {statistics.median(v):9.1f} "
          f"[{min(v):.1f}, {max(v):.1f}]  n={len(v)}")
EOF
