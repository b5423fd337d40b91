"""A small fixed-window rate limit on the shared cache (Redis in production)."""

from functools import wraps

from django.core.cache import cache
from django.shortcuts import render


def allow(key: str, limit: int, window_seconds: int) -> bool:
    """Count one hit for `key`; False once more than `limit` hits fall in the window."""
    if cache.add(key, 1, timeout=window_seconds):
        return True
    try:
        return cache.incr(key) <= limit
    except ValueError:  # the window ended between add() and incr()
        cache.add(key, 1, timeout=window_seconds)
        return True


def rate_limited(scope: str, limit: int, window_seconds: int, methods=("GET", "POST")):
    """Per client IP; an over-limit client gets a friendly 429 page."""

    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method in methods:
                ip = request.META.get("REMOTE_ADDR", "")
                if not allow(f"rl:{scope}:{request.method}:{ip}", limit, window_seconds):
                    return render(request, "feedback/too_many.html", status=429)
            return view(request, *args, **kwargs)

        return wrapper

    return decorator
