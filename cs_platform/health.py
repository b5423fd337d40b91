"""What /healthz/ reports: each dependency on its own (ok, down, or in-process when the
embedded default runs without it)."""

import redis
from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError, connection

from .cache import ResilientRedisCache

OK, DOWN, IN_PROCESS = "ok", "down", "in-process"
TIMEOUTS = {"socket_connect_timeout": 0.5, "socket_timeout": 0.5}


def dependencies() -> dict[str, str]:
    return {"database": _database(), "cache": _cache(), "broker": _broker()}


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        return DOWN
    return OK


def _cache() -> str:
    backend = caches["default"]
    if not isinstance(backend, ResilientRedisCache):
        return IN_PROCESS
    return OK if backend.ping() else DOWN


def _broker() -> str:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return IN_PROCESS
    try:
        redis.Redis.from_url(settings.CELERY_BROKER_URL, **TIMEOUTS).ping()
    except redis.RedisError:
        return DOWN
    return OK
