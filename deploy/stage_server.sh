#!/usr/bin/env bash
# Stages what the runtime image holds, under OUT:
#   OUT/usr/local/bin/blindfold          the CLI (server and clients), stripped
#   OUT/srv/blindfold/models/<m>.plan    every model in SOURCE/models compiled
#   OUT/runtime-packages.txt             the Debian packages of its shared libraries
# Run by the image's build stage (deploy/Containerfile) and, for an image of
# binaries built on this machine, by scripts/container_build.sh --prebuilt.
#
#   bash deploy/stage_server.sh BLINDFOLD_BINARY SOURCE_DIR OUT
set -euo pipefail
[ $# -eq 3 ] || { echo "usage: stage_server.sh BLINDFOLD_BINARY SOURCE_DIR OUT" >&2; exit 2; }
bin=$1 src=$2 out=$3
[ -x "$bin" ] || { echo "stage_server.sh: $bin is not an executable" >&2; exit 1; }
[ -d "$src/models" ] || { echo "stage_server.sh: no $src/models" >&2; exit 1; }
for tool in ldd dpkg-query strip; do
  command -v "$tool" >/dev/null || { echo "stage_server.sh: needs $tool" >&2; exit 1; }
done

mkdir -p "$out/usr/local/bin" "$out/srv/blindfold/models"
strip -o "$out/usr/local/bin/blindfold" "$bin"
n=0
for onnx in "$src"/models/*/*.onnx; do
  m=$(basename "$onnx" .onnx)
  "$bin" compile "$onnx" -o "$out/srv/blindfold/models/$m.plan" >/dev/null
  n=$((n + 1))
done
[ "$n" -gt 0 ] || { echo "stage_server.sh: no models/*/*.onnx in $src" >&2; exit 1; }

# Shared libraries -> the packages that ship them (by path, as dpkg knows
# it; /lib is /usr/lib on bookworm, so both spellings are asked).
libs=$(ldd "$bin" | awk '/=> \//{print $3}' | sort -u)
[ -n "$libs" ] || { echo "stage_server.sh: ldd found no shared libraries in $bin" >&2; exit 1; }
: >"$out/runtime-packages.txt"
for lib in $libs; do
  real=$(readlink -f "$lib")
  pkg=""
  for p in "$lib" "$real" "${lib#/usr}" "/usr${lib#/usr}" "${real#/usr}" "/usr${real#/usr}"; do
    pkg=$(dpkg-query -S "$p" 2>/dev/null | head -n1 | cut -d: -f1) && [ -n "$pkg" ] && break
  done
  [ -n "$pkg" ] || { echo "stage_server.sh: no Debian package ships $lib" >&2; exit 1; }
  echo "$pkg" >>"$out/runtime-packages.txt"
done
sort -u -o "$out/runtime-packages.txt" "$out/runtime-packages.txt"
echo "stage_server.sh: $(basename "$bin"), $n plans, packages: $(tr '\n' ' ' <"$out/runtime-packages.txt")" >&2
