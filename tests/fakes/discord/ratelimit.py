"""Fixed-window rate-limit buckets that answer like Discord (headers, 429 bodies)."""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_PLACEHOLDER = re.compile(r"\{[^}]*\}")


def normalize_route_key(route_key: str) -> str:
    """Normalize 'PATCH /guilds/{g}/members/{u}' so placeholder names do not matter."""
    method, _, path = route_key.strip().partition(" ")
    path = path.strip()
    if path.startswith("/api/v10"):
        path = path[len("/api/v10") :]
    return f"{method.upper()} {_PLACEHOLDER.sub('{}', path)}"


@dataclass
class Bucket:
    """One rate-limit bucket; windows are kept per major parameter."""

    route_key: str
    limit: int
    per_seconds: float
    advertise: bool = True
    windows: dict[str, tuple[float, int]] = field(default_factory=dict)

    @property
    def bucket_hash(self) -> str:
        """Opaque hash sent as X-RateLimit-Bucket."""
        return hashlib.sha1(self.route_key.encode()).hexdigest()[:16]

    def hit(self, major: str, now: float) -> tuple[bool, int, float]:
        """Count one request; return (allowed, remaining, reset_after)."""
        start, count = self.windows.get(major, (now, 0))
        if now >= start + self.per_seconds:
            start, count = now, 0
        reset_after = max(start + self.per_seconds - now, 0.0)
        if count >= self.limit:
            self.windows[major] = (start, count)
            return False, 0, reset_after
        count += 1
        self.windows[major] = (start, count)
        return True, self.limit - count, reset_after


def ratelimit_headers(bucket: Bucket, remaining: int, reset_after: float) -> dict[str, str]:
    """X-RateLimit-* headers as Discord sends them (reset-after rounded up to ms)."""
    reset_after = math.ceil(reset_after * 1000) / 1000
    return {
        "X-RateLimit-Limit": str(bucket.limit),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
        "X-RateLimit-Reset-After": f"{reset_after:.3f}",
        "X-RateLimit-Bucket": bucket.bucket_hash,
    }


@dataclass
class RateLimiter:
    """Per-route buckets plus an optional global limit."""

    clock: Callable[[], float]
    buckets: dict[str, Bucket] = field(default_factory=dict)
    default_limit: int = 10_000
    default_per_seconds: float = 1.0
    global_limit: int | None = None
    global_per_seconds: float = 1.0
    _global_bucket: Bucket | None = None

    def configure(
        self, route_key: str, limit: int, per_seconds: float, *, advertise: bool = True
    ) -> Bucket:
        """Install a bucket for one route key."""
        key = normalize_route_key(route_key)
        bucket = Bucket(key, limit, per_seconds, advertise)
        self.buckets[key] = bucket
        return bucket

    def set_global(self, limit: int | None, per_seconds: float = 1.0) -> None:
        """Enable (limit) or disable (None) the global limit."""
        self.global_limit = limit
        self.global_per_seconds = per_seconds
        self._global_bucket = (
            None if limit is None else Bucket("global", limit, per_seconds, advertise=False)
        )

    def bucket_for(self, route_key: str) -> Bucket:
        """Return the configured bucket for a route, creating a generous default one."""
        key = normalize_route_key(route_key)
        bucket = self.buckets.get(key)
        if bucket is None:
            bucket = Bucket(key, self.default_limit, self.default_per_seconds)
            self.buckets[key] = bucket
        return bucket

    def check_global(self) -> float | None:
        """Return retry_after if the global limit is exceeded, else None."""
        if self._global_bucket is None:
            return None
        allowed, _, reset_after = self._global_bucket.hit("global", self.clock())
        return None if allowed else reset_after
