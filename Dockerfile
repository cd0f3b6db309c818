# syntax=docker/dockerfile:1
# trialmon: the dashboard and the `trialmon` command, installed from the lock file.
#   docker build -t trialmon .
#   docker run -p 127.0.0.1:8050:8050 -e TRIALMON_DEMO=1 -v trialmon-data:/data trialmon
# Production: TRIALMON_DB_URL=postgresql+psycopg://dashboard_reader:...@host/trialmon
# (see compose.yaml and the README's "Deploying" section).

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: resolve nothing, install exactly what uv.lock pins (no test/dev extras)
FROM ${PYTHON_IMAGE} AS build
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PYTHON_DOWNLOADS=never \
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
RUN pip install --no-cache-dir "uv==0.13.*"
WORKDIR /app
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-dev --no-install-project --no-editable
COPY trialmon ./trialmon
COPY etl ./etl
COPY indicators ./indicators
COPY dashboard ./dashboard
COPY shell ./shell
RUN uv sync --frozen --no-dev --no-editable

# ---- run: the virtual environment only, as an unprivileged user
FROM ${PYTHON_IMAGE}
# Chromium prints the monthly review reports to PDF (dashboard/report.py), offline
# hadolint ignore=DL3008
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 trialmon \
    && useradd --system --uid 10001 --gid trialmon --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin trialmon \
    && mkdir /data && chown trialmon:trialmon /data
COPY --from=build /app/.venv /app/.venv
ENV PATH=/app/.venv/bin:$PATH PYTHONUNBUFFERED=1 \
    TRIALMON_HOST=0.0.0.0 TRIALMON_PORT=8050 TRIALMON_DATA_DIR=/data TRIALMON_DEMO=0
VOLUME ["/data"]
WORKDIR /data
USER 10001:10001
EXPOSE 8050
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('TRIALMON_PORT', '8050') + '/healthz', timeout=4)"]
# gunicorn (shell/server.py); demo data only with -e TRIALMON_DEMO=1
CMD ["trialmon", "serve"]
