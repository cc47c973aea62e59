#!/bin/bash
# The whole-command ingest ratio measured without the harness (docs/benchmarks.md, "A second
# measurement"): `citydw ingest` of the bench generator's bond CSV against `psql \copy` of the rows it
# loaded into the same table, emptied and checkpointed, each a whole process under /usr/bin/time,
# 3 alternating rounds, a fresh database per ingest made from a migrated template. Its own embedded
# warehouse (CITYDW_HOME in a temporary folder, port $PORT or 55599), stopped at the end, when the
# folder (2 GB at 1M rows) is removed too unless KEEP=1.
# usage: bench/cross_check_ingest.sh <clone dir> [rows, default 1000000]
set -euo pipefail
REPO=$(cd "$1" && pwd); ROWS=${2:-1000000}; W=$(mktemp -d /tmp/ratio-XXXX)
export CITYDW_HOME=$W/home CITYDW_WAREHOUSE_PORT=${PORT:-55599}
cd "$REPO"
finish() {
  .venv/bin/citydw warehouse down >/dev/null 2>&1 || true
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap finish EXIT
.venv/bin/python -c "from bench.data import bond_allocations_csv; from datetime import date; from pathlib import Path; bond_allocations_csv($ROWS, date(2022,7,1), Path('$W/bonds.csv'))"
ls -la $W/bonds.csv
.venv/bin/citydw warehouse up >/dev/null; URL=$(.venv/bin/citydw warehouse url)
PSQL=$(.venv/bin/python -c "from bench.warehouse import PSQL; print(PSQL)")
echo "warehouse on port $CITYDW_WAREHOUSE_PORT, psql $PSQL"
BASE=${URL%/*}
# migrate the warehouse's database once: each round's database is a copy of it
"$PSQL" "$URL" -qc "select 1" >/dev/null
.venv/bin/python -c "from citydw.warehouse.migrations import migrate; migrate('$URL')"
for i in 1 2 3; do
  "$PSQL" "$BASE/postgres" -qc "drop database if exists r$i" -c "create database r$i template citydw" 2>&1 | grep -v NOTICE || true
  /usr/bin/time -f "ingest %e s %M KiB" -o $W/t-ingest-$i env CITYDW_WAREHOUSE_URL=$BASE/r$i \
     .venv/bin/citydw ingest --month 2022-07 --dataset finance.bond_allocations --file $W/bonds.csv > $W/out-$i 2>&1 || { cat $W/out-$i; }
  cat $W/t-ingest-$i; tail -2 $W/out-$i
  [ -f $W/rows.csv ] || "$PSQL" "$BASE/r$i" -qc "\copy raw.finance__bond_allocations to '$W/rows.csv' csv header"
  "$PSQL" "$BASE/r$i" -qc "truncate raw.finance__bond_allocations" -c checkpoint
  /usr/bin/time -f "psql %e s %M KiB" -o $W/t-psql-$i "$PSQL" "$BASE/r$i" -qc "\copy raw.finance__bond_allocations from '$W/rows.csv' csv header"
  cat $W/t-psql-$i
done
# each round's ratio, then their median
paste -d' ' <(awk '{print $2}' $W/t-ingest-[123]) <(awk '{print $2}' $W/t-psql-[123]) \
  | awk '{printf "%.2f\n", $1 / $2}' > $W/ratios
awk '{printf "round %d: %s\n", NR, $1}' $W/ratios
echo "median ratio: $(sort -n $W/ratios | sed -n 2p)"
