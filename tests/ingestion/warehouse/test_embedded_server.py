"""The embedded warehouse, started for real in a temporary home."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from citydw.settings import Settings
from citydw.warehouse import EmbeddedWarehouse, WarehousePortInUseError, resolve_warehouse_url


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory: pytest.TempPathFactory, free_port: Callable[[], int]) -> Iterator[EmbeddedWarehouse]:
    server = EmbeddedWarehouse(tmp_path_factory.mktemp("embedded-home"), port=free_port())
    try:
        yield server
    finally:
        server.down()


def _up_in_subprocess(server: EmbeddedWarehouse) -> subprocess.Popen[str]:
    code = (
        "import sys; from pathlib import Path; from citydw.warehouse import EmbeddedWarehouse; "
        "print(EmbeddedWarehouse(Path(sys.argv[1]), port=int(sys.argv[2])).up())"
    )
    home = server.root.parent
    return subprocess.Popen(
        [sys.executable, "-c", code, str(home), str(server.port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_up_serves_tcp_with_password(warehouse: EmbeddedWarehouse) -> None:
    url = warehouse.up()

    assert url.startswith("postgresql://citydw:") and url.endswith(f"@127.0.0.1:{warehouse.port}/citydw")
    with psycopg.connect(url) as conn:
        row = conn.execute("select current_user, current_database(), host(inet_server_addr()), inet_server_port()")
        assert row.fetchone() == ("citydw", "citydw", "127.0.0.1", warehouse.port)
        assert conn.execute("select rolsuper from pg_roles where rolname = current_user").fetchone() == (True,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(url.replace("citydw:", "citydw:wrong", 1)).close()


def test_status_describes_running_server(warehouse: EmbeddedWarehouse) -> None:
    url = warehouse.up()

    status = warehouse.status()

    assert status.running and status.url == url == warehouse.url()
    assert status.port == warehouse.port
    assert status.data_dir == warehouse.pgdata and (status.data_dir / "PG_VERSION").exists()
    assert status.pid is not None and psutil.Process(status.pid).name() == "postgres"


def test_password_is_random_and_private(warehouse: EmbeddedWarehouse) -> None:
    warehouse.up()

    password = warehouse.password_file.read_text().strip()

    assert len(password) >= 24
    assert stat.S_IMODE(warehouse.password_file.stat().st_mode) == 0o600
    assert password in warehouse.url()


def test_unix_socket_in_warehouse_folder_needs_password(warehouse: EmbeddedWarehouse) -> None:
    warehouse.up()
    password = warehouse.password_file.read_text().strip()

    assert (warehouse.socket_dir / f".s.PGSQL.{warehouse.port}").is_socket()
    params = {"host": str(warehouse.socket_dir), "port": warehouse.port, "user": "citydw", "dbname": "citydw"}
    with psycopg.connect(**params, password=password) as conn:
        assert conn.execute("select inet_server_addr() is null").fetchone() == (True,)
    with pytest.raises(psycopg.OperationalError, match="password"):
        psycopg.connect(**params, password="wrong").close()


def test_up_again_is_a_no_op(warehouse: EmbeddedWarehouse) -> None:
    url = warehouse.up()
    pid = warehouse.status().pid

    assert warehouse.up() == url
    assert warehouse.status().pid == pid


def test_up_from_another_process_while_running_is_a_no_op(warehouse: EmbeddedWarehouse) -> None:
    url = warehouse.up()
    pid = warehouse.status().pid

    other = _up_in_subprocess(warehouse)
    out, err = other.communicate(timeout=60)

    assert other.returncode == 0, err
    assert out.strip() == url
    assert warehouse.status().pid == pid


def test_concurrent_up_from_two_processes_starts_one_server(warehouse: EmbeddedWarehouse) -> None:
    warehouse.down()

    both = [_up_in_subprocess(warehouse), _up_in_subprocess(warehouse)]
    results = [process.communicate(timeout=120) for process in both]

    assert [process.returncode for process in both] == [0, 0], results
    assert {out.strip() for out, _ in results} == {warehouse.url()}
    postmasters = [p for p in psutil.process_iter(["name", "ppid", "cwd"]) if p.info["cwd"] == str(warehouse.pgdata)]
    assert len({p.pid for p in postmasters if p.info["ppid"] not in {q.pid for q in postmasters}}) == 1


def test_down_stops_and_data_survives_restart(warehouse: EmbeddedWarehouse) -> None:
    url = warehouse.up()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("create table if not exists public.survivor (id int); insert into public.survivor values (1)")

    assert warehouse.down() is True
    assert warehouse.down() is False
    status = warehouse.status()
    assert not status.running and status.pid is None
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(url, connect_timeout=3).close()

    assert warehouse.up() == url
    with psycopg.connect(url) as conn:
        assert conn.execute("select count(*) >= 1 from public.survivor").fetchone() == (True,)


def test_up_after_crash_starts_cleanly(warehouse: EmbeddedWarehouse) -> None:
    url = warehouse.up()
    pid = warehouse.status().pid
    assert pid is not None

    # A power cut: the postmaster dies without cleaning up postmaster.pid.
    os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(psutil.NoSuchProcess):
        psutil.Process(pid).wait(10)
    assert (warehouse.pgdata / "postmaster.pid").exists()
    assert not warehouse.status().running

    assert warehouse.up() == url
    assert warehouse.status().pid not in (None, pid)
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_up_when_stale_pid_now_belongs_to_another_process(warehouse: EmbeddedWarehouse) -> None:
    warehouse.up()
    pid_file = warehouse.pgdata / "postmaster.pid"
    lines = pid_file.read_text().splitlines()
    warehouse.down()

    # After a reboot the old postmaster's pid may be any live process: here, ours.
    pid_file.write_text("\n".join([str(os.getpid()), *lines[1:]]) + "\n")
    assert not warehouse.status().running

    url = warehouse.up()
    assert warehouse.status().running
    with psycopg.connect(url) as conn:
        assert conn.execute("select 1").fetchone() == (1,)


def test_port_taken_by_another_program_is_a_clear_error(warehouse: EmbeddedWarehouse) -> None:
    warehouse.down()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        busy_port = squatter.getsockname()[1]

        with pytest.raises(WarehousePortInUseError) as caught:
            EmbeddedWarehouse(warehouse.root.parent, port=busy_port).up()

    message = str(caught.value)
    assert f"port {busy_port}" in message and "CITYDW_WAREHOUSE_PORT" in message
    assert not warehouse.status().running


def test_resolve_without_url_starts_the_embedded_warehouse(warehouse: EmbeddedWarehouse) -> None:
    warehouse.down()
    settings = Settings(home=warehouse.root.parent, warehouse_port=warehouse.port, warehouse_url=None)

    url = resolve_warehouse_url(settings)

    assert url == warehouse.url()
    assert warehouse.status().running


def test_from_settings_uses_home_and_port(tmp_path: Path, free_port: Callable[[], int]) -> None:
    port = free_port()
    server = EmbeddedWarehouse.from_settings(Settings(home=tmp_path, warehouse_port=port))

    assert server.pgdata == tmp_path.resolve() / "warehouse" / "pgdata"
    assert server.port == port
    assert not server.status().running and server.status().url is None
