#!/usr/bin/env bash
# The fault and bad-input probes of issue 15 that run as tests, re-runnable; the live
# stack's figures come from scripts/probes.py (make probes runs both).
# Needs PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379 (as CI's second stage).
#   make probes    (or: bash scripts/hardening_probes.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/cs_probes}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/0}"
export CELERY_QUEUE="cs_probes_$$"
probe() { echo; echo "=== $1"; shift; "$@"; }

probe "scoring survives kill -9 of the pool child and of the whole worker" \
  .venv/bin/pytest -q -s -p no:cacheprovider --create-db tests/metrics/test_scoring_survives_kills.py
probe "Redis at a closed port: pages, answers, lockout and rate limit still work" \
  .venv/bin/pytest -q -p no:cacheprovider tests/cs_platform/test_without_redis.py
probe "the API fuzzed from its schema (schemathesis): 500s, schema violations" \
  .venv/bin/pytest -q -p no:cacheprovider tests/api/test_api_fuzz.py
probe "50 simultaneous submits of one link, double submits, changed answers" \
  .venv/bin/pytest -q -p no:cacheprovider tests/feedback/test_surveys.py -k "simultaneous or second_submit or grace or changed"
probe "no token or secret in gunicorn's access log or the app's log" \
  .venv/bin/pytest -q -p no:cacheprovider tests/cs_platform/test_log_redaction.py
probe "CSP in Chromium (no violation, injected script blocked), CSV cells, idle sessions, 429" \
  .venv/bin/pytest -q -p no:cacheprovider tests/browser/test_content_security_policy_in_chromium.py tests/cs_platform/test_hardening.py
probe "upload limit, and validating 1,000,000 order rows: peak memory" \
  .venv/bin/pytest -q -p no:cacheprovider tests/imports/test_import_page.py
$PY scripts/validation_memory.py --orders 1000000
probe "backup and restore round trip (Postgres and SQLite), compose layout" \
  .venv/bin/pytest -q -p no:cacheprovider tests/cs_platform/test_backup.py tests/cs_platform/test_compose.py
probe "owner pages need login, the sign-in lockout, check --deploy" \
  .venv/bin/pytest -q -p no:cacheprovider tests/cs_platform/test_auth.py tests/cs_platform/test_django_settings.py
