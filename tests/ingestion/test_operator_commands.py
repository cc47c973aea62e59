"""Operator commands say what is true and keep secrets (issue 17.5): status, version, a stopped cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from citydw import __version__
from citydw.warehouse import EmbeddedWarehouse


def citydw(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "citydw.cli", *args],
        env=os.environ | env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def test_version():
    run = citydw("--version")
    assert (run.returncode, run.stdout.strip()) == (0, f"citydw {__version__}")


def test_warehouse_status_asks_the_server_of_citydw_warehouse_url_and_hides_its_password(warehouse_url):
    password = urlsplit(warehouse_url).password
    assert password  # the test server's owner URL carries one

    run = citydw("warehouse", "status", CITYDW_WAREHOUSE_URL=warehouse_url)

    assert run.returncode == 0, run.stderr
    assert password not in run.stdout + run.stderr
    assert "CITYDW_WAREHOUSE_URL" in run.stdout and "running: True" in run.stdout
    assert urlsplit(warehouse_url).path.lstrip("/") in run.stdout  # its database, not the embedded `citydw`
    assert "PostgreSQL 18" in run.stdout


def test_warehouse_status_of_an_unreachable_server_exits_3(free_port):
    url = f"postgresql://citydw:not-to-be-shown@127.0.0.1:{free_port()}/citydw"
    run = citydw("warehouse", "status", CITYDW_WAREHOUSE_URL=url)
    assert run.returncode == 3
    assert "running: False" in run.stdout and "not-to-be-shown" not in run.stdout + run.stderr


def test_embedded_warehouse_status_hides_the_owner_password(tmp_path: Path, free_port, monkeypatch):
    port = free_port()
    server = EmbeddedWarehouse(tmp_path / "home", port=port, durable=False)
    env = {"CITYDW_HOME": str(tmp_path / "home"), "CITYDW_WAREHOUSE_PORT": str(port)}
    monkeypatch.delenv("CITYDW_WAREHOUSE_URL", raising=False)
    url = server.up()
    try:
        run = citydw("warehouse", "status", **env)
    finally:
        server.down()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "running: True" in run.stdout and f":{port}/citydw" in run.stdout
    assert urlsplit(url).password not in run.stdout + run.stderr


def test_cluster_status_of_a_stopped_cluster_says_so(tmp_path: Path):
    run = citydw("cluster", "status", CITYDW_HOME=str(tmp_path))
    assert run.returncode == 3
    assert "cluster stopped" in run.stdout
