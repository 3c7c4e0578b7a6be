"""`GET /healthz`: is the database reachable, the broker when one is configured, and how far
behind the sync feed is."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse

from caseload.feed import feed_lag
from caseload.models import Appointment, Patient


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_broker() -> str:
    if not settings.REDIS_URL:
        return "eager"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _feed_lag() -> dict | str:
    """How far the sync feed is behind (caseload/feed.py): a long transaction pauses it."""
    try:
        lag = feed_lag([Appointment, Patient])
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return {
        "lag_seconds": lag.seconds,
        "waiting_transactions": lag.waiting_transactions,
        "lagging": lag.seconds > settings.CASELOAD_FEED_LAG_WARN_SECONDS,
    }


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value in {"ok", "eager"} for value in checks.values())
    feed = _feed_lag() if checks["database"] == "ok" else "unknown"
    return JsonResponse(
        {"status": "ok" if healthy else "error", **checks, "feed": feed},
        status=200 if healthy else 503,
    )
