"""A small fixed-window rate limit on the shared cache (Redis in production)."""

from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.shortcuts import render

from .cache import ResilientRedisCache


def client_ip(request) -> str:
    """The client's address. Behind NUM_PROXIES reverse proxies it is the entry that
    many places from the right of X-Forwarded-For (what the nearest trusted proxy saw);
    anything further left could be forged by the client."""
    if not request:
        return ""
    proxies = settings.NUM_PROXIES
    if proxies:
        chain = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(chain) >= proxies:
            return chain[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _redis_client(backend: ResilientRedisCache):
    """The backend's Redis client, made once: Django's cache makes a new one on every
    call, and building one costs more than the round trip to Redis."""
    client = getattr(backend, "_rate_limit_client", None)
    if client is None:
        client = backend._rate_limit_client = backend._cache.get_client(write=True)
    return client


def allow(key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for `key`; False once more than `limit` hits fall in the window.
    While Redis is down the count is kept in this process (cs_platform/cache.py)."""
    backend = caches["default"]
    if isinstance(backend, ResilientRedisCache):
        # One round trip on the request path: INCR, and start the window on the first hit.
        full_key = backend.make_and_validate_key(key)

        def on_redis() -> bool:
            pipe = _redis_client(backend).pipeline(transaction=False)
            count, _ = pipe.incr(full_key).expire(full_key, window_seconds, nx=True).execute()
            return count <= limit

        return backend.on_redis(on_redis, lambda: _count(backend.local, key, limit, window_seconds))
    return _count(cache, key, limit, window_seconds)


def _count(store, key: str, limit: int, window_seconds: int) -> bool:
    if store.add(key, 1, timeout=window_seconds):
        return True
    try:
        return store.incr(key) <= limit
    except ValueError:  # the window ended between add() and incr()
        store.add(key, 1, timeout=window_seconds)
        return True


def rate_limited(scope: str, limit: int, window_seconds: int, methods=("GET", "POST")):
    """Per client IP; an over-limit client gets a friendly 429 page. `limit` is scaled by
    settings.RATE_LIMIT_FACTOR (raised only for load benchmarks)."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                key = f"rl:{scope}:{request.method}:{client_ip(request)}"
                if not allow(key, limit * settings.RATE_LIMIT_FACTOR, window_seconds):
                    response = render(request, "feedback/too_many.html", status=429)
                    response["Retry-After"] = str(window_seconds)  # at most that long
                    return response
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
