# hh-bot: one bot process. The database (SQLite by default) and the archive of original videos
# live under the volume /data; set DATABASE_URL=postgresql://… to use PostgreSQL instead (see
# docs/deploy.md and compose.yaml). Nothing listens unless METRICS_PORT is set.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml ./
COPY hh_bot ./hh_bot
COPY cogs ./cogs
COPY bot.py ./

# A CJK font, so charts captioned in Chinese (zh-CN readers) draw their words, not boxes:
# WenQuanYi Micro Hei is one of hh_bot/reports/charts.py's FONT_FAMILIES, and small (~5 MB).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei \
    && rm -rf /var/lib/apt/lists/*

# The runtime dependencies only (no dev extra), then a user without a login or a password.
# /data/videos is created here, owned by that user, so a fresh named volume mounted on /data or
# /data/videos starts out writable by it.
RUN pip install . \
    && useradd --system --uid 10001 --user-group --home-dir /app --shell /usr/sbin/nologin hhbot \
    && mkdir -p /data/videos \
    && chown -R hhbot:hhbot /data

ENV DATABASE_URL=sqlite:////data/hh-bot.sqlite3 \
    ARCHIVE_DIR=/data/videos \
    METRICS_HOST=0.0.0.0
VOLUME ["/data"]
USER hhbot

# Healthy when /healthz answers 200 (gateway connected, store answering); without METRICS_PORT
# there is no endpoint and the check always passes.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request as u; p = os.environ.get('METRICS_PORT'); sys.exit(0) if not p else u.urlopen(f'http://127.0.0.1:{p}/healthz', timeout=4)"]

CMD ["python", "bot.py"]
