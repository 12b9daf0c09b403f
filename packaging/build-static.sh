#!/usr/bin/env bash
# Build the fully static release binary (x86_64-unknown-linux-musl) and check that it is static.
# Installs what it needs when missing: the rustup musl target, Debian's musl-tools (musl-gcc,
# used by crates that compile C, such as ring and libopus), nasm (rav1e's assembly) and cmake
# (libopus's build). Prints the binary's
# path.
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
need=()
command -v musl-gcc >/dev/null || need+=(musl-tools)
command -v nasm >/dev/null || need+=(nasm)
command -v cmake >/dev/null || need+=(cmake)
if [ ${#need[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

cargo build --release --locked --target "$target" >&2
bin="target/$target/release/vireo"
# A static binary has no program interpreter and no dynamic section.
if readelf -l "$bin" | grep -q "Requesting program interpreter" || readelf -d "$bin" | grep -q NEEDED; then
  echo "build-static.sh: $bin is not fully static" >&2
  readelf -d "$bin" >&2
  exit 1
fi
echo "$bin"
