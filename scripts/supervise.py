#!/usr/bin/env python3
"""Run several processes side by side (`make run`: the web server and the django-q2 cluster):
one that stops or crashes is started again (after 1 s, doubling up to 30 s while it keeps
failing quickly) without touching the others; SIGTERM or SIGINT (Ctrl-C) stops them all.

    supervise.py [--grace SECONDS] [--banner-after SECONDS --banner TEXT] NAME=COMMAND ...

Each child runs in its own process group, so that stopping it reaches its own children too (the
cluster's workers): SIGTERM to the group, then SIGKILL to whatever is left after `--grace`
seconds (10 by default). The supervisor itself exits within about `--grace` + 1 seconds of
a SIGTERM, whatever the children do. Under systemd, use `KillMode=mixed` (docs/security.md,
"Running in production"): systemd sends SIGTERM to this process only, which stops the children
in order, and SIGKILLs the rest of the unit at `TimeoutStopSec`.

Standard library only; no Django."""

from __future__ import annotations

import argparse
import contextlib
import os
import shlex
import signal
import subprocess
import sys
import time

MIN_BACKOFF = 1.0
MAX_BACKOFF = 30.0
# A child that ran this long before stopping is restarted after MIN_BACKOFF again.
STABLE_AFTER = 60.0


def say(message: str) -> None:
    print(f"[supervise] {message}", file=sys.stderr, flush=True)


class Child:
    def __init__(self, name: str, command: list[str]):
        self.name, self.command = name, command
        self.process: subprocess.Popen | None = None
        self.started_at = 0.0
        self.backoff = MIN_BACKOFF
        self.restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(self.command, start_new_session=True)
        self.started_at = time.monotonic()
        self.restart_at = None
        say(f"{self.name} started (pid {self.process.pid})")

    def signal_group(self, signum: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)

    def check(self, now: float) -> None:
        """Restart the child when it has stopped and its back-off has passed."""
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            ran = now - self.started_at
            # Its own children (a cluster's workers) go with it.
            self.signal_group(signal.SIGKILL)
            self.process = None
            if ran >= STABLE_AFTER:
                self.backoff = MIN_BACKOFF
            self.restart_at = now + self.backoff
            self.backoff = min(self.backoff * 2, MAX_BACKOFF)
            say(f"{self.name} stopped (code {code}); restarted in {self.restart_at - now:.0f} s")
        if self.process is None and self.restart_at is not None and now >= self.restart_at:
            self.start()


def stop_all(children: list[Child], grace: float) -> None:
    for child in children:
        child.signal_group(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        if child.process is None:
            continue
        try:
            child.process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.name} did not stop within {grace:.0f} s: killed")
        # Whatever is left of its group (a worker that ignored SIGTERM).
        child.signal_group(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.process.wait(timeout=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grace", type=float, default=10.0)
    parser.add_argument("--banner", default="")
    parser.add_argument("--banner-after", type=float, default=0.0)
    parser.add_argument("processes", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args(argv)
    children = []
    for spec in args.processes:
        name, _, command = spec.partition("=")
        if not command:
            parser.error(f"{spec!r}: expected NAME=COMMAND")
        children.append(Child(name, shlex.split(command)))

    stopping = []

    def on_signal(signum, _frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for child in children:
        child.start()
    banner_at = time.monotonic() + args.banner_after if args.banner else None
    while not stopping:
        now = time.monotonic()
        for child in children:
            child.check(now)
        if banner_at is not None and now >= banner_at:
            print(args.banner, flush=True)
            banner_at = None
        time.sleep(0.2)
    say("stopping")
    stop_all(children, args.grace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
