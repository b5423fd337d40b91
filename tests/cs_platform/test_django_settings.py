"""Settings come from the environment, with safe defaults and a clean deploy check."""

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from cs_platform.settings import database_from_url

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "0",
    "SECRET_KEY": "x7#Kp2!vQz9@Lm4$Rt8^Wn1&Yb6*Hc3(Jd5)Fg0-Se2+Ua7=Ci9Mo",
    "ALLOWED_HOSTS": "cs.example.com",
    "DATABASE_URL": "sqlite:///" + str(ROOT / "db-check-deploy.sqlite3"),
}


def run_manage(*args, env):
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DJANGO_SETTINGS_MODULE", "SECRET_KEY", "DJANGO_DEBUG"}
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_start_without_secret_key_fails_with_a_clear_message():
    env = {**PRODUCTION_ENV, "SECRET_KEY": ""}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_production_hashes_passwords_with_scrypt():
    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.PASSWORD_HASHERS[0])",
        env=PRODUCTION_ENV,
    )
    assert (
        result.stdout.strip().splitlines()[-1] == "django.contrib.auth.hashers.ScryptPasswordHasher"
    )


def test_database_url_parses_postgres_and_sqlite():
    pg = database_from_url("postgres://ana:s%40cret@db.internal:6543/shop?sslmode=require")
    assert pg["ENGINE"] == "django.db.backends.postgresql"
    assert (pg["USER"], pg["PASSWORD"], pg["HOST"], pg["PORT"], pg["NAME"]) == (
        "ana",
        "s@cret",
        "db.internal",
        "6543",
        "shop",
    )
    assert pg["OPTIONS"] == {"sslmode": "require"}
    assert database_from_url("sqlite:////var/data/cs.db")["NAME"] == "/var/data/cs.db"
    assert database_from_url("sqlite:///cs.db")["NAME"] == "cs.db"


def celery_setting(name, **env):
    result = run_manage(
        "shell",
        "-c",
        f"from cs_platform.celery import app; print(app.conf.{name})",
        env={**PRODUCTION_ENV, **env},
    )
    return result.stdout.strip().splitlines()[-1]


def test_without_redis_celery_runs_tasks_in_process():
    assert celery_setting("task_always_eager", REDIS_URL="") == "True"
    assert celery_setting("broker_url", REDIS_URL="") == "memory://"


def test_with_redis_celery_sends_tasks_to_the_broker():
    env = {"REDIS_URL": "redis://127.0.0.1:6379/3"}
    assert celery_setting("task_always_eager", **env) == "False"
    assert celery_setting("broker_url", **env) == "redis://127.0.0.1:6379/3"


def test_celery_redelivers_only_after_the_hard_time_limit():
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert (
        settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
        > settings.CELERY_TASK_TIME_LIMIT
    )
