#!/bin/sh
# Installs a side package (test/backends, bench) that `npm install` at the root never installs:
# the test emulators and cloud SDKs, the benchmark's peer servers. A user who runs the server
# gets only the runtime dependencies; the test command and the benchmark get these on demand.
#
#   sh scripts/npm-extras.sh <dir> [--link]
#
# `npm ci` runs only when <dir>/package-lock.json differs from the one last installed, so a
# second run costs one file comparison. With --link, each dependency of <dir> is also linked
# into the root node_modules: the server's own modules (src/storage/s3.ts…) import the cloud
# SDKs by name, and Node resolves a bare name only from node_modules directories above the
# importing file. A package already present there as a real directory (installed by the user)
# is left alone. `npm install` at the root removes these links as extraneous; the next run of
# this script puts them back.
set -eu
cd "$(dirname "$0")/.."
dir=${1:?usage: sh scripts/npm-extras.sh <dir> [--link]}
link=${2:-}
stamp="$dir/node_modules/.pixproxy-installed-lock.json"

if ! cmp -s "$dir/package-lock.json" "$stamp" 2>/dev/null; then
  echo "npm-extras: installing $dir (npm ci)" >&2
  npm ci --prefix "$dir" --no-audit --no-fund --loglevel=error
  cp "$dir/package-lock.json" "$stamp"
fi

[ "$link" = "--link" ] || exit 0
mkdir -p node_modules
for dep in $(node -p "Object.keys(require('./$dir/package.json').dependencies ?? {}).join(' ')"); do
  target="node_modules/$dep"
  [ -d "$target" ] && [ ! -L "$target" ] && continue
  case "$dep" in
    */*) up=../.. ; mkdir -p "node_modules/${dep%%/*}" ;;
    *) up=.. ;;
  esac
  ln -sfn "$up/$dir/node_modules/$dep" "$target"
done
