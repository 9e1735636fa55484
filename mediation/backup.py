"""Backups of the whole database: SQLite's online backup API (consistent while the web server
and the task cluster keep writing), pg_dump / pg_restore on PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.db import connection, connections


def _postgres_env(settings_dict) -> dict[str, str]:
    env = dict(os.environ)
    if settings_dict.get("PASSWORD"):
        env["PGPASSWORD"] = settings_dict["PASSWORD"]
    return env


def _postgres_args(settings_dict) -> list[str]:
    args = ["--dbname", settings_dict["NAME"]]
    if settings_dict.get("HOST"):
        args += ["--host", settings_dict["HOST"]]
    if settings_dict.get("PORT"):
        args += ["--port", str(settings_dict["PORT"])]
    if settings_dict.get("USER"):
        args += ["--username", settings_dict["USER"]]
    return args


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        raise RuntimeError(
            f"{tool} is needed for PostgreSQL backups (apt-get install postgresql-client)"
        )
    return path


def backup(target: Path) -> Path:
    """Write a backup of the default database to `target` and return it, readable by this
    account only (0600; a directory it creates, 0700), wherever it is written."""
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    # Created empty and private before any byte of data is written into it.
    target.touch(mode=0o600, exist_ok=True)
    target.chmod(0o600)
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        destination = sqlite3.connect(target)
        try:
            connection.connection.backup(destination)
        finally:
            destination.close()
    elif connection.vendor == "postgresql":
        subprocess.run(
            [
                _require("pg_dump"),
                "--format=custom",
                "--no-owner",
                "--file",
                str(target),
                *_postgres_args(settings_dict),
            ],
            check=True,
            env=_postgres_env(settings_dict),
        )
    else:  # pragma: no cover
        raise RuntimeError(f"No backup for {connection.vendor}")
    target.chmod(0o600)
    return target


def restore(source: Path) -> None:
    """Replace the default database's content with the backup in `source`."""
    if not source.exists():
        raise FileNotFoundError(source)
    settings_dict = connection.settings_dict
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        origin = sqlite3.connect(source)
        try:
            origin.backup(connection.connection)
        finally:
            origin.close()
    elif connection.vendor == "postgresql":
        connections.close_all()
        subprocess.run(
            [
                _require("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                *_postgres_args(settings_dict),
                str(source),
            ],
            check=True,
            env=_postgres_env(settings_dict),
        )
    else:  # pragma: no cover
        raise RuntimeError(f"No restore for {connection.vendor}")
