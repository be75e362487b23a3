#!/usr/bin/env bash
# Builds the Blindfold server image (deploy/Containerfile) with Debian's
# podman on a fresh Debian bookworm machine, with no container registry:
#  1. installs podman, runc, catatonit, netavark (with iptables, which it
#     runs), aardvark-dns and mmdebstrap when missing (as root);
#  2. writes /etc/containers/containers.conf when there is none (podman reads
#     it at its first use: runc, netavark, no default ulimits), or checks that
#     an existing one has those three settings;
#  3. makes the base image localhost/blindfold-debian:bookworm once, with
#     mmdebstrap from the mirror in this machine's apt sources, then
#     `podman import` (--rebuild-base makes it again);
#  4. `podman build --format docker` (the Docker format keeps HEALTHCHECK)
#     of the working tree's tracked and untracked-but-not-ignored files, and
#     prints the image's size and the build's time.
#
#   bash scripts/container_build.sh                 # compiles inside the image (build stage)
#   bash scripts/container_build.sh --prebuilt build  # packages build/tools/blindfold (quick)
#   options: --tag NAME (default localhost/blindfold:dev), --redis-tag NAME
#            (default localhost/blindfold-redis:dev), --rebuild-base, --no-install,
#            --setup-only (steps 1 and 2 only)
#
# Also builds the Redis image of the key store (deploy/redis/Containerfile).
# Prints "image TAG: N MB, built in S s" on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

tag=localhost/blindfold:dev
redis_tag=localhost/blindfold-redis:dev
base_tag=localhost/blindfold-debian:bookworm
prebuilt=""
rebuild_base=0
install=1
setup_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --tag) tag=${2:?--tag needs a value}; shift 2 ;;
    --redis-tag) redis_tag=${2:?--redis-tag needs a value}; shift 2 ;;
    --prebuilt) prebuilt=${2:?--prebuilt needs a build directory}; shift 2 ;;
    --rebuild-base) rebuild_base=1; shift ;;
    --no-install) install=0; shift ;;
    --setup-only) setup_only=1; shift ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "container_build.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
say() { echo "container_build.sh: $*" >&2; }
die() { say "$*"; exit 1; }

# -- 1. packages ---------------------------------------------------------------
need=(podman runc catatonit netavark aardvark-dns iptables mmdebstrap)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$install" = 1 ] || die "missing Debian packages: ${missing[*]} (run without --no-install, as root)"
  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]}; run as root to install them"
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# -- 2. containers.conf --------------------------------------------------------
conf=/etc/containers/containers.conf
if [ ! -e "$conf" ]; then
  [ "$(id -u)" -eq 0 ] || die "$conf is missing; run as root to write it"
  mkdir -p /etc/containers
  cat >"$conf" <<'EOF'
# Written by Blindfold's scripts/container_build.sh (docs/deploy.md).
[containers]
# No ulimits of podman's own: those above this machine's hard limits make
# every container fail to start.
default_ulimits = []

[engine]
runtime = "runc"

[network]
network_backend = "netavark"
EOF
  say "wrote $conf"
else
  for want in 'default_ulimits *= *\[ *\]' 'runtime *= *"runc"' 'network_backend *= *"netavark"'; do
    grep -Eq "^[[:space:]]*$want" "$conf" ||
      die "$conf exists but has no line matching '$want' (needed: default_ulimits = [], runtime = \"runc\", network_backend = \"netavark\"; docs/deploy.md)"
  done
fi

if [ "$setup_only" = 1 ]; then
  say "podman is set up"
  exit 0
fi

# -- 3. base image -------------------------------------------------------------
if [ "$rebuild_base" = 1 ] || ! podman image exists "$base_tag"; then
  sources=()
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -s "$f" ] && grep -Eq '^[[:space:]]*(deb|Types:)' "$f" && sources+=("$f")
  done
  [ ${#sources[@]} -gt 0 ] || die "no apt sources in /etc/apt/sources.list{,.d/} for mmdebstrap"
  work=$(mktemp -d "${TMPDIR:-/var/tmp}/blindfold-base.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  say "making $base_tag with mmdebstrap from ${sources[*]}"
  t0=$(date +%s)
  # minbase: Essential packages and apt. No documentation, manual pages or
  # translations, now or in later installs into the image (dpkg's
  # path-exclude stays in the image's /etc/dpkg/dpkg.cfg.d/).
  # merged-usr hook: /usr merged by mmdebstrap itself, so the usrmerge
  # package and the whole of perl it needs (~50 MB) stay out.
  mmdebstrap --variant=minbase --quiet \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --aptopt='APT::Install-Recommends "false"' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin' \
    bookworm "$work/base.tar" "${sources[@]}"
  podman import --quiet "$work/base.tar" "$base_tag" >/dev/null
  rm -rf "$work"
  trap - EXIT
  say "$base_tag made in $(( $(date +%s) - t0 )) s"
fi

# -- 4. the image --------------------------------------------------------------
command -v git >/dev/null || die "git is needed to list the files that go into the image"
ctx=$(mktemp -d "${TMPDIR:-/var/tmp}/blindfold-context.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
# The working tree as git sees it (no build folders, no .git), so the
# context is the same on any checkout.
(cd "$root" && git ls-files -z --cached --others --exclude-standard) |
  (cd "$root" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
  (cd "$root" && tar --null -T - -cf -) | tar -xf - -C "$ctx"
binaries=build
if [ -n "$prebuilt" ]; then
  bin="$prebuilt/tools/blindfold"
  [ -x "$bin" ] || die "--prebuilt $prebuilt: no $bin (build it: cmake --build $prebuilt --target blindfold)"
  say "packaging the prebuilt $bin"
  bash deploy/stage_server.sh "$bin" "$root" "$ctx/.prebuilt"
  binaries=prebuilt
fi

say "building $tag from deploy/Containerfile (binaries from the '$binaries' stage)"
t0=$(date +%s)
# --network host: the build's apt-get reaches the mirror the way this
# machine does.
podman build --format docker --network host --layers \
  --build-arg "BASE_IMAGE=$base_tag" --build-arg "BINARIES=$binaries" \
  -f "$ctx/deploy/Containerfile" -t "$tag" "$ctx" >&2
seconds=$(( $(date +%s) - t0 ))
say "building $redis_tag from deploy/redis/Containerfile"
podman build --format docker --network host --layers --build-arg "BASE_IMAGE=$base_tag" \
  -f "$ctx/deploy/redis/Containerfile" -t "$redis_tag" "$ctx/deploy/redis" >&2
bytes=$(podman image inspect --format '{{.Size}}' "$tag")
healthcheck=$(podman image inspect --format '{{if .HealthCheck}}{{.HealthCheck.Test}}{{end}}' "$tag")
[ -n "$healthcheck" ] || die "$tag has no HEALTHCHECK (was it built with --format docker?)"
echo "image $tag: $(( bytes / 1000000 )) MB, built in $seconds s"
