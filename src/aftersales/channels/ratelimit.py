"""A token bucket per (store, bucket), shared by every worker process.

A connector declares its platform's documented limits as `rate_limits = {bucket: (rate, burst)}`
(tokens per second, bucket size); its client calls `ctx.throttle(bucket, cost)` before each request,
which blocks until the bucket admits that cost. Buckets live in Redis when settings.REDIS_URL is set
(one atomic Lua script, Redis's own clock), else in the database (one row per bucket, updated under
select_for_update). A 429 empties the bucket for its Retry-After (`penalise`) so that the other
workers of the store wait too."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction

# How long one throttle() may wait in total before it gives up (the call is then made anyway: a 429
# from the platform is handled as a transient error).
MAX_WAIT_SECONDS = 120.0

Limits = Mapping[str, tuple[float, int]]


class Backend(Protocol):
    def take(self, store_id: int, bucket: str, rate: float, burst: int, cost: float) -> float:
        """Take `cost` tokens if the bucket holds them and return 0, else take nothing and return
        the seconds to wait before they are there."""
        ...

    def penalise(self, store_id: int, bucket: str, rate: float, burst: int, seconds: float) -> None:
        """Empty the bucket so that it admits nothing for `seconds` (the platform said 429)."""
        ...


class DatabaseBackend:
    def take(self, store_id: int, bucket: str, rate: float, burst: int, cost: float) -> float:
        from .models import RateBucket

        now = time.time()
        with transaction.atomic():
            row = RateBucket.objects.select_for_update().filter(store_id=store_id, bucket=bucket).first()
            if row is None:
                try:
                    with transaction.atomic():
                        row = RateBucket.objects.create(store_id=store_id, bucket=bucket, tokens=burst, updated=now)
                except IntegrityError:  # another worker created it: lock theirs
                    row = RateBucket.objects.select_for_update().get(store_id=store_id, bucket=bucket)
            tokens = min(float(burst), row.tokens + max(0.0, now - row.updated) * rate)
            if tokens >= cost:
                RateBucket.objects.filter(pk=row.pk).update(tokens=tokens - cost, updated=now)
                return 0.0
            RateBucket.objects.filter(pk=row.pk).update(tokens=tokens, updated=now)
            return (cost - tokens) / rate

    def penalise(self, store_id: int, bucket: str, rate: float, burst: int, seconds: float) -> None:
        from .models import RateBucket

        now = time.time()
        with transaction.atomic():
            updated = RateBucket.objects.filter(store_id=store_id, bucket=bucket).update(
                tokens=-seconds * rate, updated=now
            )
            if not updated:
                try:
                    with transaction.atomic():
                        RateBucket.objects.create(store_id=store_id, bucket=bucket, tokens=-seconds * rate, updated=now)
                except IntegrityError:
                    RateBucket.objects.filter(store_id=store_id, bucket=bucket).update(
                        tokens=-seconds * rate, updated=now
                    )


# KEYS[1] bucket key; ARGV: rate, burst, cost, mode ("take" or "penalise"), seconds (penalise)
_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local ttl = math.ceil(burst / rate) + 60
if ARGV[4] == 'penalise' then
  redis.call('HSET', KEYS[1], 'tokens', tostring(-tonumber(ARGV[5]) * rate), 'ts', tostring(now))
  redis.call('EXPIRE', KEYS[1], ttl + math.ceil(tonumber(ARGV[5])))
  return '0'
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1])
local ts = tonumber(state[2])
if tokens == nil then
  tokens = burst
  ts = now
end
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate)
local wait = 0
if tokens >= cost then
  tokens = tokens - cost
else
  wait = (cost - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('EXPIRE', KEYS[1], ttl)
return tostring(wait)
"""


class RedisBackend:
    def __init__(self, url: str) -> None:
        import redis

        self.client = redis.Redis.from_url(url)
        self.script = self.client.register_script(_LUA)

    @staticmethod
    def key(store_id: int, bucket: str) -> str:
        return f"aftersales:ratelimit:{store_id}:{bucket}"

    def take(self, store_id: int, bucket: str, rate: float, burst: int, cost: float) -> float:
        result = self.script(keys=[self.key(store_id, bucket)], args=[rate, burst, cost, "take", 0])
        return float(result)

    def penalise(self, store_id: int, bucket: str, rate: float, burst: int, seconds: float) -> None:
        self.script(keys=[self.key(store_id, bucket)], args=[rate, burst, 0, "penalise", seconds])


_backends: dict[str, Backend] = {}


def backend() -> Backend:
    url = getattr(settings, "REDIS_URL", "")
    if url not in _backends:
        _backends[url] = RedisBackend(url) if url else DatabaseBackend()
    return _backends[url]


def limits_for(limits: Limits, bucket: str) -> tuple[float, int] | None:
    return limits.get(bucket) or limits.get("default")


class Limiter:
    """The rate limiter of one store. `sleep` is injectable (tests)."""

    def __init__(
        self,
        store_id: int,
        limits: Limits,
        *,
        backend_: Backend | None = None,
        sleep: Callable[[float], None] = time.sleep,
        max_wait: float = MAX_WAIT_SECONDS,
    ) -> None:
        self.store_id = store_id
        self.limits = limits
        self.backend = backend_
        self.sleep = sleep
        self.max_wait = max_wait

    def _backend(self) -> Backend:
        return self.backend or backend()

    def throttle(self, bucket: str, cost: float = 1.0) -> float:
        """Block until `bucket` admits `cost`; returns the seconds waited."""
        found = limits_for(self.limits, bucket)
        if found is None:
            return 0.0
        rate, burst = found
        cost = min(float(cost), float(burst))  # a cost above the burst could never be admitted
        waited = 0.0
        while True:
            wait = self._backend().take(self.store_id, bucket, rate, burst, cost)
            if wait <= 0 or waited >= self.max_wait:
                return waited
            wait = min(wait, self.max_wait - waited)
            self.sleep(wait)
            waited += wait

    def penalise(self, bucket: str, seconds: float) -> None:
        found = limits_for(self.limits, bucket)
        if found is None or seconds <= 0:
            return
        rate, burst = found
        self._backend().penalise(self.store_id, bucket, rate, burst, seconds)
