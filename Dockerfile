FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

# pg_dump/pg_restore for manage.py backup and restore, from PostgreSQL's own repository:
# the client must be at least as new as the server (compose runs PostgreSQL 16).
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
 && install -d /usr/share/postgresql-common/pgdg \
 && curl -fsSo /usr/share/postgresql-common/pgdg/apt.postgresql.org.asc \
      https://www.postgresql.org/media/keys/ACCC4CF8.asc \
 && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.asc] \
      https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
      > /etc/apt/sources.list.d/pgdg.list \
 && apt-get update && apt-get install -y --no-install-recommends postgresql-client-16 \
 && apt-get purge -y curl && rm -rf /var/lib/apt/lists/*

COPY pyproject.toml requirements.lock README.md ./
COPY cs_platform ./cs_platform
COPY customers ./customers
COPY metrics ./metrics
COPY feedback ./feedback
COPY segmentation ./segmentation
RUN pip install -c requirements.lock .
COPY manage.py ./
COPY templates ./templates
COPY static ./static
# collectstatic needs settings to load; the key is thrown away with this layer.
RUN SECRET_KEY=build-only DJANGO_DEBUG=0 python manage.py collectstatic --noinput -v0

RUN useradd --create-home --uid 1000 cs && mkdir -p /app/media /app/backups \
 && chown cs /app/media /app/backups
USER cs
EXPOSE 8000
CMD ["gunicorn", "cs_platform.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--logger-class", "cs_platform.gunicorn_logging.Logger"]
