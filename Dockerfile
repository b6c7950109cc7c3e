# Gigbot: one process per container; run several behind a balancer (compose.yaml,
# docs/scale-out.md). Settings come from the environment (docs/operations.md).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    GIGBOT_HTTP_HOST=0.0.0.0 GIGBOT_HTTP_PORT=8080
WORKDIR /app

COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY domain ./domain
COPY storage ./storage
RUN pip install --no-cache-dir . && useradd --system --no-create-home gigbot
USER gigbot

EXPOSE 8080
# The balancer's check is the same: ready only with the database at the newest migration.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD python -c "import urllib.request,sys; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz').status != 200)"
# SIGTERM drains (503 to webhooks, held updates finished, claims given back).
STOPSIGNAL SIGTERM
CMD ["gigbot", "run"]
