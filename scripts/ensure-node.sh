#!/usr/bin/env bash
# Prints a directory holding a Node.js 22 `node` binary, installing one from the npm registry
# (package node-linux-<arch>, which ships the official binary) into .tools/ when the machine's
# own node is another major version. Lambda runs Node 22; so do the tests and the dev server.
set -euo pipefail
want=22
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if command -v node >/dev/null 2>&1 && [[ "$(node -p 'process.versions.node.split(".")[0]')" == "$want" ]]; then
  dirname "$(command -v node)"
  exit 0
fi
dest="$root/.tools/node$want"
if [[ -x "$dest/bin/node" ]]; then
  echo "$dest/bin"
  exit 0
fi
case "$(uname -m)" in
  x86_64) arch=x64 ;;
  aarch64 | arm64) arch=arm64 ;;
  *) echo "ensure-node: unsupported architecture $(uname -m)" >&2; exit 1 ;;
esac
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "ensure-node: installing Node.js $want (node-linux-$arch) into .tools/" >&2
(cd "$tmp" && npm pack --silent "node-linux-$arch@$want" >/dev/null 2>&1)
mkdir -p "$dest"
tar -xzf "$tmp"/node-linux-"$arch"-*.tgz -C "$dest" --strip-components=1
"$dest/bin/node" --version >&2
echo "$dest/bin"
