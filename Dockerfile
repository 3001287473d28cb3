# etl_service for ECS/Fargate or any container runtime: stateless, configured by ETL_* variables.
# Build:  docker build -t etl-service .                                  (PostgreSQL, AWS, Snowflake)
#         docker build --build-arg VARIANT=spark -t etl-service:spark .  (and PySpark on Java 17)
# Run:    docker run --rm -e ETL_DATABASE_URL=postgresql://... -e ETL_LAKE_URI=s3://bucket/prefix etl-service run
# Installed: infra/container/requirements-<VARIANT>.txt exactly (scripts/lock_container.py writes it).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG VARIANT=standard

# The etl-service wheel, from the source alone.
FROM ${PYTHON_IMAGE} AS wheel
COPY infra/container/install.sh /usr/local/bin/etl-install
WORKDIR /src
COPY pyproject.toml README.md ./
COPY etl_service ./etl_service
RUN etl-install wheel /src /wheels

# What each variant needs from Debian: tini as PID 1; Java 17 and the JDBC driver for Spark.
FROM ${PYTHON_IMAGE} AS runtime-standard
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini=0.19.* \
    && rm -rf /var/lib/apt/lists/*

FROM runtime-standard AS runtime-spark
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        openjdk-17-jre-headless=17.* libpostgresql-jdbc-java=42.* \
    && rm -rf /var/lib/apt/lists/*

# runtime-<VARIANT> is a stage above, not an image hadolint could ask a tag of.
# hadolint ignore=DL3006
FROM runtime-${VARIANT}
ARG VARIANT
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ETL_DATA_DIR=/var/lib/etl \
    ETL_DATABASE_URL=sqlite:////var/lib/etl/etl.db \
    ETL_LAKE_URI=/var/lib/etl/lake
COPY infra/container/install.sh /usr/local/bin/etl-install
# The dependencies come from the lock alone, so this layer is rebuilt only when it changes.
COPY infra/container/requirements-${VARIANT}.txt /tmp/requirements.txt
RUN etl-install deps /tmp/requirements.txt
# A change of the source rebuilds only this layer.
COPY --from=wheel /wheels /tmp/wheels
RUN etl-install app /tmp/wheels \
    && rm -rf /tmp/wheels /tmp/requirements.txt \
    && useradd --system --uid 10001 --home-dir /var/lib/etl --create-home etl
USER 10001
WORKDIR /var/lib/etl
# tini runs as PID 1: it passes ECS's SIGTERM on to the run, which records itself failed and
# releases its lock before exiting 143, and reaps any child the run leaves behind.
ENTRYPOINT ["tini", "--", "etl-service", "--log-format", "json"]
CMD ["run"]
