#!/usr/bin/env bash
# Makes sure Debian's Chromium is at /usr/bin/chromium for the browser test
# (test/browser/demo.test.ts drives it with playwright-core). Installs it with apt-get when
# running as root on a Debian-like machine; otherwise says why not and exits 0: the caller
# decides, and the browser test skips loudly when the binary is still missing.
set -uo pipefail
CHROMIUM=/usr/bin/chromium

if [[ -x "$CHROMIUM" ]]; then
  exit 0
fi

say() { echo "ensure-chromium: $*" >&2; }

if [[ "$(id -u)" != "0" ]]; then
  say "$CHROMIUM is missing and this is not root, so it cannot be installed here."
  say "install it with: sudo apt-get install -y --no-install-recommends chromium"
  say "(the browser test will be SKIPPED until then)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  say "$CHROMIUM is missing and there is no apt-get (not Debian/Ubuntu): install Chromium yourself."
  say "(the browser test will be SKIPPED until then)"
  exit 0
fi

say "installing Debian's chromium package for the browser test (apt-get, a few minutes the first time)..."
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
if DEBIAN_FRONTEND=noninteractive apt-get update -qq -o Acquire::http::Timeout=20 >"$log" 2>&1 &&
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >>"$log" 2>&1 &&
  [[ -x "$CHROMIUM" ]]; then
  say "installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
else
  say "could not install chromium with apt-get; the last lines of its output:"
  tail -n 15 "$log" >&2
  say "(the browser test will be SKIPPED until $CHROMIUM exists)"
fi
exit 0
