"""Connect Metabase to the marts as citydw_bi (compose's one-shot metabase-setup service).

Metabase's open-source edition takes its connections through its API, not
from a file, so this script does what an administrator would do by hand:
create the first admin (or log in as it), then add the warehouse as a
PostgreSQL database, user citydw_bi, showing only the ``marts`` schema. Run
again, it updates the connection (a new CITYDW_BI_PASSWORD, say) instead of
adding a second one. Only the standard library: it runs in the citydw image.

Environment: METABASE_URL, METABASE_ADMIN_EMAIL, METABASE_ADMIN_PASSWORD,
METABASE_WAREHOUSE_NAME, WAREHOUSE_HOST, WAREHOUSE_PORT, WAREHOUSE_DB,
CITYDW_BI_USER, CITYDW_BI_PASSWORD.
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request

WAIT_SECONDS = 600


class MetabaseError(RuntimeError):
    pass


def call(base: str, method: str, path: str, body: dict | None = None, session: str | None = None) -> object:
    request = urllib.request.Request(
        base.rstrip("/") + path,
        data=None if body is None else json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **({"X-Metabase-Session": session} if session else {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            text = response.read().decode() or "null"
    except urllib.error.HTTPError as err:
        # Metabase's error bodies never echo the password back.
        raise MetabaseError(f"{method} {path} answered {err.code}: {err.read().decode()[:500]}") from err
    return json.loads(text)


def wait_until_healthy(base: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            health = call(base, "GET", "/api/health")
            if isinstance(health, dict) and health.get("status") == "ok":
                return
        except (MetabaseError, OSError):
            pass
        if time.monotonic() > deadline:
            raise MetabaseError(f"Metabase at {base} was not healthy within {WAIT_SECONDS} s: see its container log.")
        time.sleep(5)


def admin_session(base: str, email: str, password: str) -> str:
    properties = call(base, "GET", "/api/session/properties")
    assert isinstance(properties, dict)
    if not properties.get("has-user-setup"):
        answer = call(
            base,
            "POST",
            "/api/setup",
            {
                "token": properties["setup-token"],
                "user": {"email": email, "password": password, "first_name": "citydw", "last_name": "admin"},
                "prefs": {"site_name": "citydw", "site_locale": "zh", "allow_tracking": False},
            },
        )
    else:
        answer = call(base, "POST", "/api/session", {"username": email, "password": password})
    assert isinstance(answer, dict)
    return str(answer["id"])


def connect_warehouse(base: str, session: str, env: dict[str, str]) -> str:
    name = env.get("METABASE_WAREHOUSE_NAME") or "citydw marts"
    payload = {
        "engine": "postgres",
        "name": name,
        "details": {
            "host": env["WAREHOUSE_HOST"],
            "port": int(env.get("WAREHOUSE_PORT") or 5432),
            "dbname": env["WAREHOUSE_DB"],
            "user": env["CITYDW_BI_USER"],
            "password": env["CITYDW_BI_PASSWORD"],
            "ssl": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": "marts",
            "tunnel-enabled": False,
            "advanced-options": False,
        },
        "is_full_sync": True,
    }
    listed = call(base, "GET", "/api/database", session=session)
    databases = listed.get("data", []) if isinstance(listed, dict) else listed
    existing = [db for db in databases or [] if db.get("name") == name]
    if existing:
        call(base, "PUT", f"/api/database/{existing[0]['id']}", payload, session=session)
        return f"updated Metabase database {name!r} (id {existing[0]['id']})"
    created = call(base, "POST", "/api/database", payload, session=session)
    assert isinstance(created, dict)
    return f"added Metabase database {name!r} (id {created.get('id')})"


def main() -> int:
    env = dict(os.environ)
    missing = [
        name
        for name in ("METABASE_URL", "METABASE_ADMIN_EMAIL", "METABASE_ADMIN_PASSWORD", "WAREHOUSE_HOST",
                     "WAREHOUSE_DB", "CITYDW_BI_USER", "CITYDW_BI_PASSWORD")
        if not env.get(name)
    ]  # fmt: skip
    if missing:
        print(f"metabase-setup: set {', '.join(missing)} (docker/.env, see docker/.env.example)", file=sys.stderr)
        return 1
    base = env["METABASE_URL"]
    try:
        wait_until_healthy(base)
        session = admin_session(base, env["METABASE_ADMIN_EMAIL"], env["METABASE_ADMIN_PASSWORD"])
        print(connect_warehouse(base, session, env), f"as {env['CITYDW_BI_USER']}, schema marts only")
    except MetabaseError as err:
        print(f"metabase-setup: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
