#!/usr/bin/env bash
# Install the reference tools the benches compare against (Debian's wrk, nginx, curl, ffmpeg)
# when missing, then run the API, upload, search, transcoding, audio, web UI, federation, delivery and import benches with the release profile.
set -euo pipefail
cd "$(dirname "$0")/.."
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
missing=()
for tool in wrk nginx curl ffmpeg nasm cmake; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
# nginx from Debian starts a system instance on install; the bench runs its own.
systemctl stop nginx 2>/dev/null || true
cargo bench --locked --bench api --bench uploads --bench search --bench transcode --bench audio --bench web --bench federation --bench delivery --bench import "$@"
