# watcher: `watcher run` as a non-root user; feeds.yml mounted, the database on a volume.
#   docker build -t watcher .
#   docker run -d --name watcher -e TELEGRAM_BOT_TOKEN=... \
#     -v "$PWD/feeds.yml:/etc/watcher/feeds.yml:ro" -v watcher-data:/data watcher
FROM python:3.11-slim

# OCR of scanned pages in prefecture RAAs (French data, 23 MB): see README "Prefectures".
RUN apt-get update \
    && apt-get install -y --no-install-recommends tesseract-ocr tesseract-ocr-fra \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin watcher \
    && mkdir -p /data /etc/watcher && chown watcher:watcher /data

WORKDIR /app
# Dependencies from the lock file (exact versions, hashes checked by pip), then watcher itself.
COPY requirements.lock pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install --no-cache-dir --require-hashes -r requirements.lock \
    && pip install --no-cache-dir --no-deps . && rm -rf /app/build
# The shipped feeds.yml is the default; mount your own over it.
COPY feeds.yml /etc/watcher/feeds.yml

ENV WATCHER_CONFIG=/etc/watcher/feeds.yml \
    WATCHER_DB=/data/watcher.db \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER watcher
# SIGTERM (docker stop) finishes the current step and exits 0.
STOPSIGNAL SIGTERM
# Unhealthy when the run loop stopped turning or every source is failing.
HEALTHCHECK --interval=1m --timeout=30s --start-period=2m CMD ["watcher", "status", "--check"]
ENTRYPOINT ["watcher"]
CMD ["run"]
