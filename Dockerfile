# etl_service for ECS/Fargate or any container runtime: stateless, configured by ETL_* variables.
# Build:  docker build -t etl-service .
# Run:    docker run --rm -e ETL_DATABASE_URL=postgresql://... -e ETL_LAKE_URI=s3://bucket/prefix etl-service run
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY etl_service ./etl_service
RUN pip wheel --no-cache-dir --wheel-dir /wheels ".[postgres,aws]"

FROM python:3.11-slim-bookworm
ARG ETL_VERSION=0.1.0
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    ETL_DATA_DIR=/var/lib/etl \
    ETL_DATABASE_URL=sqlite:////var/lib/etl/etl.db \
    ETL_LAKE_URI=/var/lib/etl/lake
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index --find-links=/wheels "etl-service[postgres,aws]==${ETL_VERSION}" \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --home-dir /var/lib/etl --create-home etl
USER 10001
WORKDIR /var/lib/etl
ENTRYPOINT ["etl-service", "--log-format", "json"]
CMD ["run"]
