#!/bin/sh
# Compile time against graph size: chains of N nodes (relu and add of a
# constant alternating, test/limits/gen_chain.py) through the whole qnnc
# pipeline, first to IR only (--emit=qir: the baseline, measured in the
# same run) and then to an object at each -O level.  Time per node that
# stays flat as N grows means compile time is linear in the graph.
#   bench/compile_scaling.sh [BUILD_DIR] [N...]      (default N: 1000 4000 16000)
# N counts the nodes of the source chain; relu fusion leaves about half.
set -e
src=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$src/build}
[ $# -gt 0 ] && shift
sizes=${*:-1000 4000 16000}
cmake -S "$src" -B "$build" >/dev/null
cmake --build "$build" --target qnnc -j2 >/dev/null
qnnc=$build/bin/qnnc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 -c "import numpy; numpy.save('$tmp/x.npy', numpy.array([[-1, 0, 1, 2]], numpy.float32))"
printf '[calibration]\ndataset = "x.npy"\n' >"$tmp/qnnc.toml"

printf '%8s  %-10s %9s %12s %12s\n' nodes output seconds "ms/node" "peak RSS MB"
for n in $sizes; do
    /usr/bin/python3 "$src/test/limits/gen_chain.py" qir "$n" "$tmp/chain.qir"
    for mode in qir O0 O2; do
        case $mode in
        qir) set -- --emit=qir -o "$tmp/out.qir" ;;
        *) set -- "-$mode" -o "$tmp/out.o" ;;
        esac
        /usr/bin/time -f '%e %M' -o "$tmp/t" "$qnnc" "$tmp/chain.qir" --config "$tmp/qnnc.toml" "$@" >/dev/null
        read -r secs kb <"$tmp/t"
        awk -v n="$n" -v m="$mode" -v s="$secs" -v kb="$kb" \
            'BEGIN { printf "%8d  %-10s %9.2f %12.3f %12.0f\n", n, m, s, 1000 * s / n, kb / 1024 }'
    done
done
