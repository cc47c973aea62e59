"""Prepare the warehouse once, before the Airflow services start (compose's airflow-init).

Creates and migrates the database named by CITYDW_WAREHOUSE_URL (migration
0002 creates the read-only role citydw_bi) and applies CITYDW_BI_PASSWORD to
the role, so Metabase can connect before the first DAG run. Every citydw
process would do the same on first use; doing it here makes a broken URL or a
missing privilege fail the deployment at once, with the message that says
what to fix, instead of failing the first task a month later.
"""

from __future__ import annotations

import sys

from citydw.settings import get_settings
from citydw.warehouse import prepare_warehouse, redact_url
from citydw.warehouse.roles import BI_ROLE, ensure_bi_password


def main() -> int:
    settings = get_settings()
    if not settings.warehouse_url:
        print("CITYDW_WAREHOUSE_URL is not set: compose.yaml sets it from docker/.env.", file=sys.stderr)
        return 1
    url = prepare_warehouse(settings.warehouse_url)
    if settings.bi_password is None:
        print(f"{BI_ROLE}: CITYDW_BI_PASSWORD is not set, so the BI role has no password and nobody can log in as it.")
    else:
        changed = ensure_bi_password(url, settings.bi_password)
        print(f"{BI_ROLE}: password {'set' if changed else 'already in place'}.")
    print(f"warehouse ready: {redact_url(url)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
