#!/usr/bin/env bash
# `make style`: calls that have no place in depot (unbounded copies, unchecked conversions).
set -u
cd "$(dirname "$0")/.."
bad=$(grep -nE '\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atof|strtok|tmpnam|mktemp)\s*\(' \
	$(git ls-files 'src/*.c' 'src/*.h') || true)
if [ -n "$bad" ]; then
	echo "style: banned calls:"
	echo "$bad"
	exit 1
fi
echo "style: ok"
