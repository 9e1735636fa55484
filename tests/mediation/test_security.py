import time
from datetime import timedelta

import pytest
from django.urls import reverse

from mediation.middleware import LAST_SEEN, STARTED

pytestmark = pytest.mark.django_db


def test_healthz_reports_database_broker_and_cluster(client):
    from tests.mediation.test_health import task_ran

    task_ran(timedelta(seconds=5))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body.pop("cluster_heartbeat_age") < 60
    assert body == {"status": "ok", "database": "ok", "broker": "ok", "cluster": "ok"}


def test_healthz_says_when_the_database_is_down(client, monkeypatch):
    from mediation import health

    monkeypatch.setattr(health, "_database", lambda: False)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["database"] == "error"


def test_repeated_failed_logins_lock_the_account_from_that_address(client, mediator):
    url = reverse("login")
    for _ in range(5):
        client.post(url, {"username": mediator.email, "password": "faux"})
    response = client.post(url, {"username": mediator.email, "password": "mot-de-passe-de-test-42"})
    assert response.status_code == 429
    assert "Connexion bloquée" in response.content.decode()


def test_a_huge_username_is_refused_and_counted_without_failing(client):
    # axes stored it whole: PostgreSQL refused more than 255 characters (500).
    from axes.models import AccessAttempt

    response = client.post(reverse("login"), {"username": "x" * 10_000, "password": "faux"})
    assert response.status_code == 200
    assert AccessAttempt.objects.get().username == "x" * 255


def test_a_successful_login_resets_the_failure_count(client, mediator):
    url = reverse("login")
    for _ in range(3):
        client.post(url, {"username": mediator.email, "password": "faux"})
    good = {"username": mediator.email, "password": "mot-de-passe-de-test-42"}
    assert client.post(url, good).status_code == 302
    client.post(reverse("logout"))
    for _ in range(3):
        client.post(url, {"username": mediator.email, "password": "faux"})
    assert client.post(url, good).status_code == 302


def login(client, user):
    client.post(reverse("login"), {"username": user.email, "password": "mot-de-passe-de-test-42"})


def test_an_idle_session_ends_after_30_minutes(client, mediator):
    login(client, mediator)
    assert client.get("/").status_code == 200
    session = client.session
    session[LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    response = client.get("/")
    assert response.status_code == 302 and "/compte/connexion/" in response["Location"]
    assert client.get("/").status_code == 302


def test_a_session_ends_10_hours_after_login_even_if_active(client, mediator):
    login(client, mediator)
    session = client.session
    session[STARTED] = int(time.time()) - 10 * 3600 - 1
    session.save()
    assert client.get("/").status_code == 302


def test_a_new_session_at_login(client, mediator):
    client.get(reverse("login"))
    before = client.cookies.get("sessionid")
    login(client, mediator)
    assert client.cookies["sessionid"].value != (before.value if before else None)


def test_pages_with_personal_data_are_not_cached(mediator_client):
    response = mediator_client.get("/")
    assert "no-store" in response["Cache-Control"]


def test_pages_carry_a_strict_content_security_policy(client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]


def test_no_template_carries_inline_script_or_style():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = [
        str(path.relative_to(root))
        for app in ("mediation", "bookings", "cases", "reports")
        for path in (root / app).rglob("*.html")
        # E-mails are not web pages (no CSP applies): their clients need inline styles.
        if "messages" not in path.parts
        and any(tag in path.read_text() for tag in ("<script>", "<style", ' style="', "onclick="))
    ]
    assert offenders == []


def test_removal_from_the_last_structure_ends_the_session(client, mediator, structure):
    from mediation.models import Membership

    login(client, mediator)
    assert client.get("/").status_code == 200
    Membership.objects.filter(user=mediator).delete()
    response = client.get("/", follow=True)
    assert "aucune structure" in response.content.decode()
    assert client.get("/").status_code == 302


def test_a_deactivated_account_is_logged_out(client, mediator):
    login(client, mediator)
    mediator.is_active = False
    mediator.save()
    assert client.get("/").status_code == 302


def test_the_home_pages_background_refresh_does_not_keep_an_idle_session_open(client, mediator):
    # "Ma journée" asks for its panels every 45 s: a desk computer left on the home page must
    # still be signed out after 30 minutes without anyone at it.
    login(client, mediator)
    idle_since = int(time.time()) - 29 * 60
    session = client.session
    session[LAST_SEEN] = idle_since
    session.save()
    refresh = {"HX-Request": "true", "X-Background-Refresh": "1"}
    client.get(reverse("day_panel"), {"panneau": "bookings.appointments"}, headers=refresh)
    assert client.session[LAST_SEEN] == idle_since
    client.get("/")  # someone at the desk
    assert client.session[LAST_SEEN] > idle_since


def test_an_expired_session_sends_a_refreshing_panel_to_the_login_page(client, mediator):
    login(client, mediator)
    session = client.session
    session[LAST_SEEN] = int(time.time()) - 31 * 60
    session.save()
    response = client.get(
        reverse("day_panel"),
        {"panneau": "bookings.appointments"},
        headers={"HX-Request": "true", "X-Background-Refresh": "1"},
    )
    # The whole page goes to the login (HX-Redirect), not the login form into the panel.
    assert response.status_code == 200
    assert response["HX-Redirect"] == f"{reverse('login')}?next=/"
