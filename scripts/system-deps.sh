#!/usr/bin/env bash
# Install the system packages the test suite needs, when missing and when running as root:
# the PostgreSQL 15 server, the PostgreSQL JDBC driver (for Spark), a Java 17 runtime and
# Chromium (the report's headless-browser test).
# tini (the container's init, run by the container test). hadolint comes with the dev extra;
# Terraform (for `make infra`) is not a Debian package: install it from HashiCorp.
set -euo pipefail

missing=()
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || missing+=(postgresql-15)
[ -f /usr/share/java/postgresql.jar ] || missing+=(libpostgresql-jdbc-java)
if ! command -v java >/dev/null 2>&1 || ! java -version 2>&1 | grep -q 'version "17'; then
  missing+=(openjdk-17-jre-headless)
fi
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v tini >/dev/null 2>&1 || missing+=(tini)

if [ ${#missing[@]} -eq 0 ]; then
  echo "system packages: all present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "system packages missing (${missing[*]}); not root, so not installing them." >&2
  echo "Tests that need them will skip (or fail under CI=true)." >&2
  exit 0
fi
echo "installing system packages: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian postgresql package may start a cluster on 5432; the tests start their own.
