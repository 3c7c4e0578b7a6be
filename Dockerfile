# The Caseload image: gunicorn web process, Celery worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# Dependencies first, so code changes do not reinstall them. README* may be absent.
COPY pyproject.toml README* ./
COPY caseload ./caseload
COPY api ./api
COPY config ./config
COPY console ./console
COPY manage.py ./
RUN pip install .

# Run unprivileged; collectstatic at start-up writes only to /app/staticfiles.
RUN useradd --system --create-home --uid 10001 caseload \
    && mkdir -p /app/staticfiles \
    && chown caseload /app/staticfiles
USER caseload

EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--config", "config/gunicorn.py", "--bind", "0.0.0.0:8000"]
