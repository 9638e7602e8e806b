#!/usr/bin/env bash
# Runs the reference's own end-to-end suite (supervisor/tests/test_end_to_end.py)
# against our binary. Usage: tests/e2e/run.sh PYTHON SUPERVISOR_BIN
set -euo pipefail
py=$1 bin=$2
here=$(cd "$(dirname "$0")" && pwd)
suite=$("$py" -c 'import os, supervisor.tests as t; print(os.path.join(os.path.dirname(t.__file__), "test_end_to_end.py"))')
# The wheel omits one fixture the suite uses (test_issue_565 fails against
# the reference itself without it): provide it, counting lines slowly.
fixtures=$(dirname "$suite")/fixtures
if [ ! -e "$fixtures/hello.sh" ]; then
  cat > "$fixtures/hello.sh" <<'SH'
#!/bin/bash
for i in 1 2 3 4 5 6 7 8 9 10; do
  printf 'The \303\230resund bridge ends in Malm\303\266 - %d\n' "$i"
  sleep 1
done
SH
fi
export END_TO_END=1 SUPERVISOR_BIN=$bin REAL_PYTHON=$py PYTHONPATH=$here${PYTHONPATH:+:$PYTHONPATH}
# Each test starts its own daemon; run from a scratch dir so nothing lands in the tree.
cd "$(mktemp -d)"
exec "$py" -m pytest -p conftest_shim -q -rxX -o cache_dir="$PWD/.cache" "$suite"
