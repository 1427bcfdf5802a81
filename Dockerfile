# The service on its committed Hauts-de-France data:
#   docker build -t geo-service . && docker run -p 8000:8000 geo-service
# On PostGIS with several workers (the database is created/migrated on start):
#   docker run -p 8000:8000 -e GEO_SERVICE_DATABASE_URL=postgresql://geo:secret@db:5432/geo \
#     geo-service geo-service serve --workers 4
# Front-end libraries come from npm at build time (first stage); nothing is fetched at run time.
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GEO_SERVICE_HOST=0.0.0.0 \
    GEO_SERVICE_PORT=8000 \
    GEO_SERVICE_DATA_DIR=/app/data \
    GEO_SERVICE_NODE_MODULES_DIR=/app/node_modules

RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY geo_service ./geo_service
COPY boundaries ./boundaries
RUN pip install .
COPY data ./data
COPY --from=assets /assets/node_modules ./node_modules

RUN useradd --system --no-create-home geo
USER geo
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["geo-service", "serve"]
