# The service on its committed Hauts-de-France data: docker build -t geo-service . && docker run -p 8000:8000 geo-service
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GEO_SERVICE_HOST=0.0.0.0 \
    GEO_SERVICE_PORT=8000 \
    GEO_SERVICE_DATA_DIR=/app/data

WORKDIR /app
COPY pyproject.toml README.md ./
COPY geo_service ./geo_service
COPY boundaries ./boundaries
RUN pip install .
COPY data ./data

RUN useradd --system --no-create-home geo
USER geo
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["geo-service", "serve"]
