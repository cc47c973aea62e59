"""No SQL is assembled from strings: psycopg's ``sql`` composition is the only way.

Values from deliveries (sheet names, headers, cells, file names) and from the
registry must never reach the warehouse as SQL text. Values travel as query
parameters (``%s`` with a tuple) or through ``COPY``; identifiers through
``sql.Identifier``; literal that cannot be parameters (``ALTER ROLE …
PASSWORD``) through ``sql.Literal``. So the package's syntax tree may hold:

- no f-string, ``%``-formatting, ``+``-concatenation, ``str.format`` or
  ``str.join`` as the statement given to ``execute``/``executemany``/
  ``copy``/``stream``/``read_sql`` (directly or through a local variable),
  nor as the text given to ``sql.SQL``;
- no such string anywhere that reads like a statement (``select … from``,
  ``insert into``, ``update … set``, ``delete from``, ``copy … from|to``).
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCANNED = [REPO / "ingestion" / "citydw", REPO / "dags"]

_EXECUTING = {"execute", "executemany", "copy", "stream", "read_sql", "read_sql_query"}
_STATEMENT = re.compile(
    r"\bselect\b[\s\S]*\bfrom\b|\binsert\s+into\b|\bupdate\s+[\w.\"{}%]+\s+set\b|\bdelete\s+from\b"
    r"|\bcopy\s+[\w.\"{}(), %]+\s+(from|to)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.why}"


def assembled_text(node: ast.AST) -> str | None:
    """The literal text of a string built at run time (placeholders as ``{}``), else None."""
    if isinstance(node, ast.JoinedStr):
        if not any(isinstance(part, ast.FormattedValue) for part in node.values):
            return None  # an f-string without fields is a constant
        return "".join(part.value if isinstance(part, ast.Constant) else "{}" for part in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod | ast.Add):
        left, right = _text(node.left), _text(node.right)
        if left is not None or right is not None:
            return (left or "{}") + (right or "{}")
        return None
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("format", "join")
        and _text(node.func.value) is not None
    ):
        return _text(node.func.value)
    return None


def _text(node: ast.AST) -> str | None:
    """Literal text of a string constant or of an assembled string."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return assembled_text(node)


def _is_sql_constructor(func: ast.AST) -> bool:
    """``sql.SQL(…)`` or ``SQL(…)`` (psycopg's trusted-text wrapper)."""
    return (isinstance(func, ast.Attribute) and func.attr == "SQL") or (isinstance(func, ast.Name) and func.id == "SQL")


def scan_source(path: str, source: str) -> list[Violation]:
    tree = ast.parse(source)
    violations: list[Violation] = []
    flagged: set[int] = set()

    def flag(node: ast.AST, why: str) -> None:
        if id(node) not in flagged:
            flagged.add(id(node))
            violations.append(Violation(path, getattr(node, "lineno", 0), why))

    # Strings assembled into a local name, by scope, so `query = f"…"; cur.execute(query)` is seen.
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))]
    assembled_names: dict[int, dict[str, ast.AST]] = {}
    for scope in scopes:
        names: dict[str, ast.AST] = {}
        for node in ast.walk(scope):
            if isinstance(node, ast.Assign) and assembled_text(node.value) is not None:
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        names[target.id] = node.value
            elif isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name) and isinstance(node.op, ast.Add):
                names[node.target.id] = node
        assembled_names[id(scope)] = names

    def enclosing_names(node: ast.AST) -> dict[str, ast.AST]:
        merged: dict[str, ast.AST] = {}
        for scope in scopes:
            if scope is tree or any(child is node for child in ast.walk(scope)):
                merged.update(assembled_names[id(scope)])
        return merged

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            statement = node.args[0]
            is_executing = isinstance(node.func, ast.Attribute) and node.func.attr in _EXECUTING
            if is_executing or _is_sql_constructor(node.func):
                what = f"{node.func.attr if isinstance(node.func, ast.Attribute) else 'SQL'}()"
                if assembled_text(statement) is not None:
                    flag(statement, f"SQL text for {what} assembled from strings; compose it with psycopg.sql")
                elif isinstance(statement, ast.Name) and statement.id in enclosing_names(node):
                    flag(statement, f"{statement.id!r}, given to {what}, was assembled from strings")
        text = assembled_text(node)
        if text is not None and _STATEMENT.search(text):
            flag(node, f"a statement assembled from strings: {text.strip()[:60]!r}")
    return violations


def package_files() -> list[Path]:
    return sorted(path for root in SCANNED for path in root.rglob("*.py"))


def test_no_sql_is_assembled_from_strings() -> None:
    files = package_files()
    assert files, "nothing to scan: has ingestion/citydw moved?"
    violations = []
    for path in files:
        violations.extend(scan_source(str(path.relative_to(REPO)), path.read_text(encoding="utf-8")))
    assert not violations, (
        "Compose SQL with psycopg.sql (sql.SQL(...).format(sql.Identifier(...), ...)) and pass values as "
        "parameters:\n" + "\n".join(map(str, violations))
    )


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute(f"select * from raw.{table}")',
        "cur.execute(\"delete from raw.t where month = '%s'\" % month)",
        'conn.execute("insert into meta.x values (" + value + ")")',
        'conn.execute("update {} set x = 1".format(table))',
        'query = f"select * from {table}"\nconn.execute(query)',
        'def f(conn, table):\n    query = "select * from " + table\n    return conn.execute(query)',
        'conn.execute(sql.SQL(f"select * from {table}"))',
        'with cur.copy(f"copy {table} from stdin") as copy: pass',
        'statement = "copy %s (a, b) from stdin" % table',
        'conn.execute(" ".join(["select", column, "from", table]))',
        "conn.execute(f\"alter role citydw_bi password '{password}'\")",
    ],
)
def test_the_scan_finds(source: str) -> None:
    assert scan_source("sample.py", source), source


@pytest.mark.parametrize(
    "source",
    [
        'conn.execute("select * from meta.deliveries where dataset = %s", (dataset,))',
        'conn.execute(sql.SQL("select * from {}").format(sql.Identifier("raw", table)))',
        'conn.execute(sql.SQL("alter role {} password {}").format(sql.Identifier(role), sql.Literal(secret)))',
        'with cur.copy(sql.SQL("copy {} from stdin").format(target)) as copy: pass',
        'raise ValueError(f"Cannot select the rows of {sheet}: update the template")',
        'log.info("%s rows", count)',
        'message = f"Delete the folder {path} and start again"',
    ],
)
def test_the_scan_lets_pass(source: str) -> None:
    assert scan_source("sample.py", source) == []
