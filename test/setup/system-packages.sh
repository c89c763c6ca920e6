#!/usr/bin/env bash
# Installs the Debian packages the test suite drives for real: the JVM and Maven for the sandbox's Cassandra,
# Go for its Consul, openssl for the secured profile's certificates, and the shells, man and systemd tools the
# completion, man page and unit-file tests run.
# Runs before `npm test` (pretest) and `npm run demo`; installs only what is missing, with apt-get as root or
# through passwordless sudo, and otherwise names the packages and stops.
set -euo pipefail

# command -> Debian package
declare -A packages=(
  [java]=openjdk-17-jdk-headless
  [mvn]=maven
  [go]=golang-go
  [bash]=bash
  [zsh]=zsh
  [fish]=fish
  [groff]=groff-base
  [man]=man-db
  [systemd-analyze]=systemd
  [openssl]=openssl
)
only=("$@")
[ ${#only[@]} -gt 0 ] || only=("${!packages[@]}")

missing=()
for command in "${only[@]}"; do
  command -v "$command" >/dev/null 2>&1 || missing+=("${packages[$command]}")
done
[ ${#missing[@]} -gt 0 ] || exit 0

echo "setup: installing missing packages: ${missing[*]}" >&2
if [ "$(id -u)" -eq 0 ]; then
  apt=(apt-get)
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  apt=(sudo apt-get)
else
  echo "setup: these packages are missing and cannot be installed without root: ${missing[*]}" >&2
  echo "setup: install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
"${apt[@]}" update -qq >&2
"${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
