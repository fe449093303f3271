"""A throwaway PostgreSQL cluster for tests (initdb refuses root, so it runs as the `postgres` user)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.ports import reserved_port


def postgres_bindir() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a cluster on a free port (held until it stops: Postgres binds it with SO_REUSEADDR); yield its
    SQLAlchemy URL; stop and delete it afterwards."""
    bindir = postgres_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
    root = tempfile.mkdtemp(prefix="arena-pg-")
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(root, "postgres")
    data = os.path.join(root, "data")
    with reserved_port() as port:
        try:
            subprocess.run(
                [
                    *as_postgres,
                    f"{bindir}/initdb",
                    "-D",
                    data,
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
                check=True,
                capture_output=True,
                timeout=60,
            )
            options = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories={root} -c fsync=off"
            start = ["-w", "-t", "30", "-o", options, "-l", os.path.join(root, "log"), "start"]
            subprocess.run(
                [*as_postgres, f"{bindir}/pg_ctl", "-D", data, *start], check=True, capture_output=True, timeout=60
            )
            yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
        finally:
            stop = [f"{bindir}/pg_ctl", "-D", data, "-m", "immediate", "stop"]
            subprocess.run([*as_postgres, *stop], capture_output=True, timeout=60)
            shutil.rmtree(root, ignore_errors=True)


@contextmanager
def required_postgres() -> Iterator[str]:
    """A throwaway cluster's URL; the test is skipped where PostgreSQL is not installed, and fails on CI (whose
    .ci/run installs it)."""
    if postgres_bindir() is None:
        if os.environ.get("CI") == "true":
            pytest.fail("PostgreSQL is missing on CI (.ci/run installs it)")
        pytest.skip("PostgreSQL server binaries not installed (apt-get install postgresql)")
    with throwaway_postgres() as url:
        yield url
