"""Rate limits hold under concurrency (issue 17, fix 2): 40 parallel requests against a limit
of 20 let exactly 20 through. The counter was a read-then-write on the file cache (the
default without Redis), and 29 of 40 got through. Runs on SQLite in the suite; with
DATABASE_URL=postgres://… on PostgreSQL."""

import threading

import pytest
from django.db import connections

from mediation import ratelimit

WORKERS = 40
LIMIT = 20


def race(scope: str, identity: str) -> list[bool]:
    barrier = threading.Barrier(WORKERS)
    answers = []

    def attempt():
        try:
            barrier.wait()
            answers.append(ratelimit.hit(scope, identity, limit=LIMIT, window=3600))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.mark.django_db(transaction=True)
def test_40_parallel_requests_against_a_limit_of_20_let_exactly_20_through(settings, tmp_path):
    # The production default without REDIS_URL: a file cache, whose incr is not atomic.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        }
    }
    answers = race("booking-ip", "198.51.100.7")
    assert len(answers) == WORKERS
    assert answers.count(True) == LIMIT
    # And the counter goes on refusing.
    assert not ratelimit.hit("booking-ip", "198.51.100.7", limit=LIMIT, window=3600)
    assert ratelimit.exceeded("booking-ip", "198.51.100.7", limit=LIMIT, window=3600)


@pytest.mark.django_db
def test_each_identity_and_scope_has_its_own_count():
    for _ in range(3):
        assert ratelimit.hit("waitlist-ip", "198.51.100.7", limit=3, window=3600)
    assert not ratelimit.hit("waitlist-ip", "198.51.100.7", limit=3, window=3600)
    assert ratelimit.hit("waitlist-ip", "198.51.100.8", limit=3, window=3600)
    assert ratelimit.hit("booking-ip", "198.51.100.7", limit=3, window=3600)
    assert not ratelimit.exceeded("booking-ip", "198.51.100.7", limit=3, window=3600)
