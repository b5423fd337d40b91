"""The shared cache on Redis, and pages that keep working while Redis is down.

While Redis cannot be reached every cache call goes to an in-process cache instead
(rate limits and the login lockout then count per web process, cached settings are
read again from the database), the outage is logged once, and Redis is tried again
every 30 s."""

from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .outage import Outage

UNREACHABLE = (RedisConnectionError, RedisTimeoutError)
# One per process: Django makes a cache backend per thread, the outage is the same.
OUTAGE = Outage("Redis (cache)", "using an in-process cache")


class ResilientRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self.local = LocMemCache("redis-fallback", {})  # one store per process, by name
        self.outage = OUTAGE

    def on_redis(self, call, fallback):
        """call() on Redis if it is worth trying; else (or when it fails) fallback()."""
        if self.outage.worth_trying():
            try:
                result = call()
            except UNREACHABLE as error:
                self.outage.failed(error)
            else:
                self.outage.worked()
                return result
        return fallback()

    def ping(self) -> bool:
        return bool(self.on_redis(lambda: self._cache.get_client().ping(), lambda: False))


def _resilient(name: str):
    def method(self, *args, **kwargs):
        return self.on_redis(
            lambda: getattr(RedisCache, name)(self, *args, **kwargs),
            lambda: getattr(self.local, name)(*args, **kwargs),
        )

    method.__name__ = name
    return method


for _name in ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr",
              "set_many", "delete_many", "clear"):  # fmt: skip
    setattr(ResilientRedisCache, _name, _resilient(_name))
