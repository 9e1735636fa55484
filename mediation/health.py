"""/healthz: is the database reachable, is the task broker, and is a task cluster actually
running? For load balancers and monitoring; says nothing about data.

The broker answering says nothing of the cluster that should read it ("broker: ok" with no
cluster running, issue 17): `heartbeat`, scheduled every minute, is a task that does nothing,
and the age of the cluster's last task run (django-q's Task rows, successes and failures)
tells whether a cluster runs. Above HEALTH_CLUSTER_MAX_AGE_SECONDS the answer is 503."""

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache

HEARTBEAT_SCHEDULE = "mediation.heartbeat"


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


def _heartbeat_age() -> int | None:
    """Seconds since the cluster last finished a task; None when it never did."""
    try:
        from django_q.models import Task

        last = Task.objects.order_by("-stopped").values_list("stopped", flat=True).first()
    except Exception:  # noqa: BLE001
        return None
    if last is None:
        return None
    return max(0, int((timezone.now() - last).total_seconds()))


def heartbeat() -> str:
    """Task, every minute: its run is the cluster's heartbeat."""
    return "ok"


def ensure_schedules() -> None:
    from django_q.models import Schedule

    from mediation.schedules import ensure_schedule

    ensure_schedule(
        HEARTBEAT_SCHEDULE,
        func="mediation.health.heartbeat",
        schedule_type=Schedule.MINUTES,
        minutes=1,
        repeats=-1,
    )


@never_cache
def healthz(request):
    age = _heartbeat_age()
    checks = {
        "database": _database(),
        "broker": _broker(),
        "cluster": age is not None and age <= settings.HEALTH_CLUSTER_MAX_AGE_SECONDS,
    }
    healthy = all(checks.values())
    return JsonResponse(
        {
            "status": "ok" if healthy else "error",
            **{name: "ok" if ok else "error" for name, ok in checks.items()},
            "cluster_heartbeat_age": age,
        },
        status=200 if healthy else 503,
    )
