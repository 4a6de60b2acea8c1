#!/usr/bin/env bash
# Checks the npm package as users get it: `npm publish --dry-run` accepts it, and its tarball alone,
# installed into a fresh project, gives a working `shardless` command (so nothing it runs lives
# outside dist/: the package has no runtime dependencies). Run after `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."
version=$(node -p 'require("./package.json").version')

# Lists the files it would publish.
npm publish --dry-run --ignore-scripts

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tarball=$(npm pack --ignore-scripts --silent --pack-destination "$tmp")
listing=$(tar -tzf "$tmp/$tarball")
for f in package/bin/shardless.js package/dist/cli/index.js package/dist/cli/action.yml \
  package/dist/cli/licenses.txt package/dist/index.js package/dist/licenses.txt package/action.yml package/LICENSE package/CHANGELOG.md; do
  grep -qx "$f" <<<"$listing" || { echo "check-package: $f is missing from $tarball" >&2; exit 1; }
done

mkdir "$tmp/project"
cd "$tmp/project"
echo '{ "name": "shardless-package-check", "version": "0.0.0", "private": true }' > package.json
npm install --no-audit --no-fund --ignore-scripts --offline "../$tarball" >/dev/null
others=$(ls node_modules | grep -vx shardless || true)
[ -z "$others" ] || { echo "check-package: installing the package brought in other packages: $others" >&2; exit 1; }
got=$(npx --no -- shardless --version)
[ "$got" = "$version" ] || { echo "check-package: 'npx shardless --version' printed '$got', expected '$version'" >&2; exit 1; }
npx --no -- shardless --help | grep -q '^Usage: shardless <command>' || { echo "check-package: 'npx shardless --help' shows no usage" >&2; exit 1; }
npx --no -- shardless run --help | grep -q -- '--batch-size <value> .*\[default: 10\]' ||
  { echo "check-package: 'npx shardless run --help' has no defaults (action.yml not found next to the bundle?)" >&2; exit 1; }
echo "check-package: $tarball ($(wc -l <<<"$listing") files) installs 'shardless' $got on its own"
