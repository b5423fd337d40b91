FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app

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

RUN useradd --create-home --uid 1000 cs && mkdir -p /app/media && chown cs /app/media
USER cs
EXPOSE 8000
CMD ["gunicorn", "cs_platform.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "--logger-class", "cs_platform.gunicorn_logging.Logger"]
