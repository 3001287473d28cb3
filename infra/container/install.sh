#!/bin/sh
# The image's Python install steps, one image layer each. The container test runs these same
# steps in a virtualenv (PYTHON names its interpreter), since no Docker engine runs there.
#   install.sh wheel SRC DIR   the etl-service wheel of the source tree SRC, alone, into DIR
#   install.sh deps LOCK       exactly the pinned distributions of LOCK, nothing resolved
#   install.sh app DIR         the etl-service wheel from DIR, without dependencies; then a
#                              check that every installed distribution has what it requires
set -eu
python="${PYTHON:-python}"
case "${1:-}" in
  wheel) "$python" -m pip wheel --no-cache-dir --no-deps --wheel-dir "$3" "$2" ;;
  deps) "$python" -m pip install --no-cache-dir --no-deps --requirement "$2" ;;
  app)
    "$python" -m pip install --no-cache-dir --no-deps --no-index "$2"/etl_service-*.whl
    "$python" -m pip check
    ;;
  *)
    echo "usage: install.sh wheel SRC DIR | deps LOCK | app DIR" >&2
    exit 2
    ;;
esac
