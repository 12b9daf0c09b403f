#!/usr/bin/env bash
# Run Vireo from source on a fresh Debian machine with only Rust installed: installs what the
# build needs when missing (nasm for the AV1 encoder's assembly, cmake for libopus), then builds and starts
# `vireo serve` on the embedded default configuration (data in ./vireo-data, 127.0.0.1:9000).
# Extra arguments go to `vireo` (e.g. `bash packaging/run.sh serve --listen 0.0.0.0:9000`).
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
command -v nasm >/dev/null || missing+=(nasm)
command -v cmake >/dev/null || missing+=(cmake)
if [ ${#missing[@]} -gt 0 ]; then
  echo "packaging/run.sh: installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
exec cargo run --release --locked -- "$@"
