# The service on its committed Hauts-de-France data, projects kept in the volume /var/lib/geo-service:
#   docker build -t geo-service . && docker run -p 8000:8000 -v geo-service-store:/var/lib/geo-service geo-service
# On PostGIS with several workers (the database is created/migrated on start), built with the PostgreSQL driver:
#   docker build --build-arg GEO_SERVICE_EXTRAS=postgis -t geo-service:postgis .
#   docker run -p 8000:8000 -e GEO_SERVICE_DATABASE_URL=postgresql://geo:secret@db:5432/geo \
#     geo-service:postgis geo-service serve --workers 4
# Python packages come from the hash-pinned lock (requirements/app.lock, or requirements/postgis.lock), front-end
# libraries from npm at build time (first stage); nothing is fetched at run time. tests/test_image_layout.py runs the
# service as this image does (read-only app, unprivileged user, ENV below): keep it in step with this file.
FROM node:20-bookworm-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim
# '' (the embedded SQLite store only) or postgis: picks the lock requirements/${GEO_SERVICE_EXTRAS:-app}.lock
ARG GEO_SERVICE_EXTRAS=""
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    GEO_SERVICE_HOST=0.0.0.0 \
    GEO_SERVICE_PORT=8000 \
    GEO_SERVICE_DATA_DIR=/app/data \
    GEO_SERVICE_NODE_MODULES_DIR=/app/node_modules \
    GEO_SERVICE_DATABASE_URL=sqlite:////var/lib/geo-service/projects.sqlite3

RUN apt-get update && apt-get install -y --no-install-recommends fonts-dejavu-core && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# the locked dependencies first: this layer is rebuilt only when a lock changes, not on every code change
COPY requirements ./requirements
RUN pip install --require-hashes -r "requirements/${GEO_SERVICE_EXTRAS:-app}.lock"
COPY pyproject.toml README.md LICENSE ./
COPY geo_service ./geo_service
COPY boundaries ./boundaries
RUN pip install --no-deps . && pip check
COPY data ./data
COPY --from=assets /assets/node_modules ./node_modules

# /app stays root's and read-only for the service; the SQLite store (seeded from data/projects on first start)
# lives in the volume, the one place the runtime user writes.
RUN useradd --system --no-create-home geo \
    && mkdir -p /var/lib/geo-service \
    && chown geo:geo /var/lib/geo-service
VOLUME /var/lib/geo-service
USER geo
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["geo-service", "serve"]
