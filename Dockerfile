# The store's image: proxy (nginx), web (gunicorn), Celery worker and beat, and the Kafka relay
# all run from it (see docker-compose.yml and docs/operating.md).
# Untested here: the development machine has no Docker engine.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Debian's nginx: the proxy service in front of gunicorn's sync workers (amazon_site/core/nginx.py).
RUN apt-get update && apt-get install -y --no-install-recommends nginx && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# collectstatic needs settings but no services: a throwaway key, DEBUG off so the
# manifest storage (hashed, compressed files served by WhiteNoise) is built.
RUN SECRET_KEY=collectstatic-only DEBUG=0 python manage.py collectstatic --noinput --verbosity 0 \
    && useradd --create-home --uid 1000 store \
    && mkdir -p var/media && chown -R store var

USER store
EXPOSE 8000 8001
CMD ["gunicorn", "amazon_site.wsgi", "--config", "gunicorn.conf.py"]
