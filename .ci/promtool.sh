#!/usr/bin/env bash
# Provide promtool without installing or running the Prometheus server: download the Debian `prometheus` package
# (apt verifies it against the signed package lists), extract only the promtool binary into .ci/cache/bin, and
# keep it there. Re-runs find the cached binary and do nothing (no network, no apt). Prints promtool's path.
#
# Usage: .ci/promtool.sh            (prints the path; exit status non-zero when promtool cannot be provided)
set -euo pipefail
cd "$(dirname "$0")"
cache="$PWD/cache"
bin="$cache/bin/promtool"

if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
    echo "$bin"
    exit 0
fi

mkdir -p "$cache/bin"
# The cache is a build artefact: keep it out of git without touching the repository's .gitignore.
[ -f "$cache/.gitignore" ] || printf '*\n' > "$cache/.gitignore"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

download() { (cd "$work" && apt-get download prometheus >/dev/null 2>&1); }
if ! download; then
    # Package lists missing or stale (a fresh container): refresh them once, then retry.
    echo "promtool: apt-get download failed; running apt-get update" >&2
    if [ "$(id -u)" -eq 0 ]; then apt-get update -qq >/dev/null; else sudo -n apt-get update -qq >/dev/null; fi
    download || { echo "promtool: cannot download the Debian prometheus package" >&2; exit 1; }
fi

deb="$(ls "$work"/prometheus_*.deb)"
# Extract only the binary we need (the package also carries the ~100 MB server).
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" ./usr/bin/promtool
install -m 0755 "$work/usr/bin/promtool" "$bin.tmp"
mv "$bin.tmp" "$bin"  # atomic: a concurrent run never sees half a binary
"$bin" --version >&2
echo "$bin"
