#!/usr/bin/env bash
# A true install, proved on clean virtual environments (CI runs this; so can anyone):
#
#  1. `pip install .` with NO extras (what an operator or the image does), then the
#     first start: demo data at a tiny scale -> compute -> serve on a free port ->
#     one API answer -> stop.
#  2. The floors: the same first start, plus a representative part of the test suite,
#     with every direct dependency at the LOWEST version pyproject.toml allows
#     (`uv pip install --resolution lowest-direct`), so a lower bound that does not work
#     fails here.
#
# Uses uv when present (fast), else pip (then step 2 is skipped: pip cannot resolve to
# the lowest versions). Needs the package index or a warm uv cache.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=${PYTHON:-python3}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/trialmon-install.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

have_uv() { "$PYTHON" -m uv --version >/dev/null 2>&1; }

make_venv() {  # make_venv DIR [uv pip install options...]
  local dir=$1; shift
  if have_uv; then
    "$PYTHON" -m uv venv -q "$dir" -p "$PYTHON"
    # a non-editable build from a copy, so nothing of the work tree leaks in
    "$PYTHON" -m uv pip install -q -p "$dir/bin/python" "$@" "$ROOT"
  else
    "$PYTHON" -m venv "$dir"
    "$dir/bin/python" -m pip install -q --disable-pip-version-check "$ROOT"
  fi
}

free_port() {
  "$1" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

first_start() {  # first_start VENV NAME
  local venv=$1 name=$2 data="$WORK/$2-data"
  local port; port=$(free_port "$venv/bin/python")
  echo "[$name] trialmon demo (tiny) -> compute"
  ( cd "$WORK" && TRIALMON_DATA_DIR="$data" "$venv/bin/trialmon" demo --scale 0.002 \
      --from 2024-01 --to 2024-03 -q )
  # a second run of an unchanged demo must succeed and compute nothing
  ( cd "$WORK" && TRIALMON_DATA_DIR="$data" "$venv/bin/trialmon" demo --scale 0.002 \
      --from 2024-01 --to 2024-03 -q )
  test -s "$data/trialmon-indicators-en.csv.gz" || { echo "no bulk file"; exit 1; }
  echo "[$name] trialmon serve on 127.0.0.1:$port"
  ( cd "$WORK" && TRIALMON_DATA_DIR="$data" TRIALMON_HOST=127.0.0.1 TRIALMON_PORT="$port" \
      exec "$venv/bin/trialmon" serve ) >"$WORK/$name-serve.log" 2>&1 &
  SERVER_PID=$!
  local answer="" i
  for i in $(seq 1 120); do
    # stderr goes to the log (a refused connection while the server starts is normal)
    if answer=$("$venv/bin/python" - "$port" 2>>"$WORK/$name-probe.log" <<'PY'
import json, sys, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/indicators?indicator=unemployed&area=SSS&format=json"
with urllib.request.urlopen(url, timeout=10) as r:
    body = json.load(r)
assert r.status == 200 and body["data"], body
assert body["metadata"]["disclosure_control"]["threshold"] == 5
print(f"{len(body['data'])} rows, e.g. {body['data'][0]['month']} {body['data'][0]['value']}")
PY
    ); then break; fi
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/$name-serve.log"; exit 1; }
    sleep 1
  done
  [ -n "$answer" ] || { echo "[$name] no API answer"; tail -5 "$WORK/$name-probe.log"; cat "$WORK/$name-serve.log"; exit 1; }
  echo "[$name] API answered: $answer"
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

echo "== 1. pip install . (no extras) and the first start"
make_venv "$WORK/plain"
first_start "$WORK/plain" plain

if have_uv; then
  echo "== 2. the floors: every direct dependency at its lowest allowed version"
  make_venv "$WORK/lowest" --resolution lowest-direct
  "$PYTHON" -m uv pip list -q -p "$WORK/lowest/bin/python" 2>/dev/null \
    | grep -iE '^(polars|pyarrow|adbc-driver|sqlalchemy|alembic|numpy|scipy|dash|flask|plotly|psycopg|holidays|babel|click|xlsxwriter) ' || true
  first_start "$WORK/lowest" lowest
  # the test tools at their usual versions, the project's dependencies kept at the floor
  "$PYTHON" -m uv pip freeze -q -p "$WORK/lowest/bin/python" | grep -v '^trialmon' \
    >"$WORK/lowest-constraints.txt"
  "$PYTHON" -m uv pip install -q -p "$WORK/lowest/bin/python" -c "$WORK/lowest-constraints.txt" \
    pytest pytest-timeout hypothesis fastexcel openpyxl
  ( cd "$ROOT" && "$WORK/lowest/bin/python" -m pytest -q -p no:cacheprovider -x \
      -k "not postgres" tests/test_engine.py tests/test_export.py tests/test_api.py \
      tests/test_provenance.py tests/test_db.py )
else
  echo "== 2. skipped: uv not available (pip cannot install the lowest versions)"
fi
echo "install checks passed"
