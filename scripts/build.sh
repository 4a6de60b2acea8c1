#!/usr/bin/env bash
# Builds dist/ (the action's bundle and the command-line tool's) into a fresh
# folder and swaps it in at the end, so processes running dist/ never see a half-written bundle and two
# builds at once do not mix their files.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc --noEmit -p .
out=$(mktemp -d .dist-new.XXXXXX)
trap 'rm -rf "$out"' EXIT
npx ncc build src/index.ts -o "$out" --license licenses.txt --target es2022 >/dev/null
npx ncc build src/cli/index.ts -o "$out/cli" --license licenses.txt --target es2022 >/dev/null
rm -rf dist
mv "$out" dist
chmod 755 dist
trap - EXIT
