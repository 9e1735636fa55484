"""`make run` supervises the web server and the task cluster (scripts/supervise.py, #17 fix 7):
a child that crashes is started again without touching the other, and SIGTERM stops both
within a bounded time, even a child that ignores it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUPERVISE = ROOT / "scripts" / "supervise.py"

# A child that writes its pid to a file and sleeps; with "stubborn", it ignores SIGTERM.
CHILD = """
import os, signal, sys, time
if sys.argv[2] == "stubborn":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
with open(sys.argv[1], "a") as f:
    f.write(f"{os.getpid()}\\n")
while True:
    time.sleep(0.1)
"""


def _pids(path: Path) -> list[int]:
    return [int(line) for line in path.read_text().split()] if path.exists() else []


def _wait_for(condition, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is dead: look at its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def _start(tmp_path, web_mode="polite", cluster_mode="polite", grace=2):
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    web, cluster = tmp_path / "web.pids", tmp_path / "cluster.pids"
    supervisor = subprocess.Popen(
        [
            sys.executable,
            str(SUPERVISE),
            "--grace",
            str(grace),
            f"web={sys.executable} {script} {web} {web_mode}",
            f"cluster={sys.executable} {script} {cluster} {cluster_mode}",
        ],
        start_new_session=True,
        stderr=subprocess.DEVNULL,
    )
    assert _wait_for(lambda: _pids(web) and _pids(cluster))
    return supervisor, web, cluster


def test_a_crashed_cluster_is_restarted_and_the_web_server_keeps_running(tmp_path):
    supervisor, web, cluster = _start(tmp_path)
    try:
        [web_pid], [cluster_pid] = _pids(web), _pids(cluster)
        os.kill(cluster_pid, signal.SIGKILL)
        assert _wait_for(lambda: len(_pids(cluster)) == 2), "the cluster was not restarted"
        assert _alive(_pids(cluster)[1])
        assert _pids(web) == [web_pid] and _alive(web_pid)
    finally:
        os.killpg(supervisor.pid, signal.SIGTERM)
        supervisor.wait(timeout=10)


def test_sigterm_to_the_group_stops_both_within_the_grace_period(tmp_path):
    supervisor, web, cluster = _start(tmp_path, cluster_mode="stubborn", grace=2)
    pids = _pids(web) + _pids(cluster)
    started = time.monotonic()
    os.killpg(supervisor.pid, signal.SIGTERM)
    assert supervisor.wait(timeout=10) == 0
    elapsed = time.monotonic() - started
    assert elapsed < 2 + 2, f"stopped in {elapsed:.1f} s"
    assert _wait_for(lambda: not any(_alive(pid) for pid in pids), timeout=2)


def test_make_run_starts_both_under_the_supervisor():
    run = (ROOT / "scripts" / "run.sh").read_text()
    assert "exec $PY scripts/supervise.py" in run
    assert '"cluster=$PY manage.py qcluster"' in run
    # The threaded development server holds no persistent connection (PostgreSQL would run
    # out of them: bench/two_nodes.py's first run).
    assert "web=env CONN_MAX_AGE=0 $PY manage.py runserver" in run
