"""The quarterly reports schedule run by a real task cluster on the Redis broker (CI).

Builds a small network in a throw-away database (PostgreSQL with DATABASE_URL, else SQLite),
makes the "archive last quarter" schedule due, starts `manage.py qcluster` with REDIS_URL set
(the production broker), and waits until every structure and network has its three archived
files. Prints how long it took; fails (exit 1) if the archives do not all appear in time.

    REDIS_URL=redis://127.0.0.1:6379/15 \\
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/permanence \\
    .venv/bin/python bench/quarterly_on_redis.py
"""

import os
import signal
import subprocess
import sys
import time

os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")

from common import ROOT, finish, setup_django  # noqa: E402

setup_django("quarterly")

from django.utils import timezone  # noqa: E402
from django_q.models import Schedule  # noqa: E402
from generate import generate_activity  # noqa: E402

from mediation.models import Network, Structure  # noqa: E402
from reports import services  # noqa: E402
from reports.models import ReportArchive  # noqa: E402
from reports.periods import last_closed_quarter  # noqa: E402

TIMEOUT = 180


def main() -> None:
    from django.conf import settings

    assert "redis" in settings.Q_CLUSTER, "REDIS_URL must select the Redis broker"
    generate_activity(sessions=600, structures=3, years=1, seed=2, out=None)
    services.ensure_schedules()
    Schedule.objects.filter(name=services.ARCHIVE_SCHEDULE).update(
        next_run=timezone.now() - timezone.timedelta(seconds=5)
    )
    periods = services.archived_periods(last_closed_quarter())
    expected = 3 * len(periods) * (Network.objects.count() + Structure.objects.count())
    env = {**os.environ, "Q_WORKERS": "2"}
    started = time.perf_counter()
    cluster = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        while time.perf_counter() - started < TIMEOUT:
            if ReportArchive.objects.count() >= expected:
                break
            if cluster.poll() is not None:
                raise SystemExit(f"qcluster stopped: {cluster.stderr.read().decode()[-2000:]}")
            time.sleep(1)
    finally:
        os.killpg(cluster.pid, signal.SIGTERM)
        try:
            cluster.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(cluster.pid, signal.SIGKILL)
    elapsed = time.perf_counter() - started
    archived = ReportArchive.objects.count()
    schedule = Schedule.objects.get(name=services.ARCHIVE_SCHEDULE)
    print(
        f"{archived}/{expected} archives written by the cluster on Redis in {elapsed:.1f} s; "
        f"next run {timezone.localtime(schedule.next_run):%Y-%m-%d %H:%M}"
    )
    ok = archived == expected and schedule.next_run > timezone.now()
    finish(archives=archived, expected=expected, seconds=elapsed, ok=int(ok))
    if not ok:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
