"""/healthz: is the database reachable, and is the task broker? For load balancers and
monitoring; says nothing about data."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache


def _database() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone()[0] == 1
    except Exception:  # noqa: BLE001 — any failure means "not healthy"
        return False


def _broker() -> bool:
    try:
        from django_q.brokers import get_broker

        broker = get_broker()
        # The ORM broker's ping is always true: its queue size is a real round trip.
        return bool(broker.ping()) and broker.queue_size() is not None
    except Exception:  # noqa: BLE001
        return False


@never_cache
def healthz(request):
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            **{name: "ok" if ok else "error" for name, ok in checks.items()},
        },
        status=200 if healthy else 503,
    )
