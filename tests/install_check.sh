#!/usr/bin/env bash
# `make install PREFIX=dir` gives dir/bin/supervisor and its three names,
# and each name runs its mode.
set -euo pipefail
cd "$(dirname "$0")/.."
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
make --no-print-directory install PREFIX="$prefix" >/dev/null
for name in supervisor supervisord supervisorctl echo_supervisord_conf; do
  [ -x "$prefix/bin/$name" ] || { echo "install: missing $prefix/bin/$name"; exit 1; }
done
for name in supervisord supervisorctl echo_supervisord_conf; do
  [ "$(readlink "$prefix/bin/$name")" = supervisor ] || { echo "install: $name is not a link to supervisor"; exit 1; }
done
cmp <("$prefix/bin/echo_supervisord_conf") conf/sample.conf
[ "$("$prefix/bin/supervisord" -v)" = 4.3.0 ]
size=$(stat -c %s "$prefix/bin/supervisor")
echo "install layout: ok (release binary: $size bytes)"
