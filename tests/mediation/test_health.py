"""/healthz tells the truth (issue 17, fix 7): it said "broker: ok" with no task cluster
running. It now reports the age of the cluster's last task run (a heartbeat scheduled every
minute) and fails (503) when it is older than HEALTH_CLUSTER_MAX_AGE_SECONDS; in production
mode a plain-HTTP probe is answered, not redirected to HTTPS."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule, Success

pytestmark = pytest.mark.django_db


def task_ran(ago: timedelta) -> None:
    stopped = timezone.now() - ago
    Success.objects.create(
        id="a" * 32,
        name="heartbeat",
        func="mediation.health.heartbeat",
        started=stopped,
        stopped=stopped,
        success=True,
    )


def test_no_cluster_running_is_an_error(client):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["cluster"] == "error" and body["cluster_heartbeat_age"] is None


def test_a_recent_heartbeat_is_ok(client):
    task_ran(timedelta(seconds=40))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["cluster"] == "ok"
    assert 39 <= body["cluster_heartbeat_age"] <= 60


def test_a_stale_heartbeat_fails(client, settings):
    task_ran(timedelta(seconds=settings.HEALTH_CLUSTER_MAX_AGE_SECONDS + 60))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["cluster"] == "error"


def test_the_heartbeat_is_scheduled_every_minute():
    schedule = Schedule.objects.get(func="mediation.health.heartbeat")
    assert schedule.schedule_type == Schedule.MINUTES and schedule.minutes == 1


def test_healthz_is_exempt_from_the_https_redirect(client, settings):
    from django.conf import settings as live

    assert any(__import__("re").match(p, "healthz") for p in live.SECURE_REDIRECT_EXEMPT)
    settings.SECURE_SSL_REDIRECT = True
    task_ran(timedelta(seconds=10))
    assert client.get("/healthz").status_code == 200
    assert client.get("/compte/connexion/").status_code == 301
