FROM python:3.11-slim
WORKDIR /app
# Chromium prints the monthly review reports to PDF (dashboard/report.py), offline
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
COPY pyproject.toml README.md ./
COPY trialmon trialmon
COPY etl etl
COPY indicators indicators
COPY dashboard dashboard
COPY app.py ./
RUN pip install --no-cache-dir .
ENV TRIALMON_HOST=0.0.0.0 TRIALMON_PORT=8050
EXPOSE 8050
# Production: set TRIALMON_DB_URL=postgresql+psycopg://user:pass@host/db
CMD ["python", "app.py"]
