#!/usr/bin/env bash
# Installs the Debian 12 packages depot needs to build, run and test — only those missing.
# `deps.sh fuzz` installs what `make fuzz` needs instead (clang-14 and its libFuzzer runtime).
set -euo pipefail
if [ "${1:-}" = fuzz ]; then
	pkgs=(clang-14 libclang-rt-14-dev)
else
	pkgs=(build-essential pkg-config libmicrohttpd-dev libjansson-dev libjwt-dev libssl-dev
	      libmagic-dev libmagic-mgc uuid-dev libcurl4-openssl-dev libsqlite3-dev libpq-dev
	      postgresql libcmocka-dev python3 python3-pytest python3-requests python3-jwt
	      python3-cryptography python3-jsonschema
	      curl)
fi
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js runs the S3 server of the tests (scripts/s3.sh); any installed node and npm will do.
if [ "${1:-}" != fuzz ] && { ! command -v node >/dev/null || ! command -v npm >/dev/null; }; then
	missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
