# watcher: `watcher run` as a non-root user; feeds.yml mounted, the database on a volume.
#   docker build -t watcher .
#   docker run -d --name watcher -e TELEGRAM_BOT_TOKEN=... \
#     -v "$PWD/feeds.yml:/etc/watcher/feeds.yml:ro" -v watcher-data:/data watcher
FROM python:3.11-slim

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin watcher \
    && mkdir -p /data /etc/watcher && chown watcher:watcher /data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY watcher ./watcher
RUN pip install --no-cache-dir . && rm -rf /app/build
# The shipped feeds.yml is the default; mount your own over it.
COPY feeds.yml /etc/watcher/feeds.yml

ENV WATCHER_CONFIG=/etc/watcher/feeds.yml \
    WATCHER_DB=/data/watcher.db \
    PYTHONUNBUFFERED=1
VOLUME ["/data"]
USER watcher
# SIGTERM (docker stop) finishes the current step and exits 0.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=5m --timeout=30s CMD ["watcher", "status"]
ENTRYPOINT ["watcher"]
CMD ["run"]
