"""No secret is committed: every file git knows of is scanned.

Department tokens, mail passwords, the warehouse's and the BI role's
passwords come from the environment or Airflow connections (DESIGN.md,
issue 6); a literal one in the repository is a leak. The scan covers the
tracked files and the untracked ones git does not ignore, so a secret is
caught before it is committed, this file included: the patterns are built
so that their own source text does not match them.

What is flagged:

- private key blocks, AWS access key ids, GitHub/Slack/Google tokens, JWTs,
  literal ``Bearer`` tokens, and the webhook URLs of the alert channels
  (WeCom, DingTalk, Slack), whose key is the secret;
- a password in a URL (``scheme://user:<password>@host``) unless it is a
  placeholder (``${VAR}``, ``{variable}``, ``***``, ``<password>``,
  ``TOKEN``) or the host is reserved for examples (``*.invalid``,
  ``*.example``, ``*.test``, ``example.com``);
- ``password = "…"``, ``token: …``, SQL's ``password '…'`` and the like
  with a literal value in code and configuration (Python by its syntax tree,
  YAML/TOML/INI/env/shell/SQL by line), unless the value is empty, a
  placeholder, an environment variable's name or reference (``${VAR}``,
  ``{{ env_var('VAR') }}``), or a sentence;
- files that hold nothing but secrets: ``.env``, ``*.pem``, ``*.key``,
  ``id_rsa``, ``.pgpass``, ``.netrc`` (``.env.example`` is documentation).

``tests/`` is exempt from the second and third rules, about passwords in
URLs and literal values: proving that a wrong token is refused or that a
password is redacted from a URL needs a made-up one. The rules for real
key formats and for secrets files apply to tests too.
"""

from __future__ import annotations

import ast
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pytest

REPO = Path(__file__).resolve().parents[2]
THIS_FILE = PurePosixPath(Path(__file__).resolve().relative_to(REPO).as_posix())

_DASHES = "-" * 5
_HIGH_CONFIDENCE: dict[str, re.Pattern[str]] = {
    "private key": re.compile(_DASHES + "BEGIN " + r"(?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?" + _DASHES),
    "AWS access key id": re.compile(r"\b(?:A" + r"KIA|A" + r"SIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b|\bgithub_pat_[A-Za-z0-9_]{50,}"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "JSON Web Token": re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}"),
    "Bearer token": re.compile(r"\bBearer[ \t]+[A-Za-z0-9._~+/-]{16,}=*"),
    "Slack webhook": re.compile(r"hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]{16,}"),
    "DingTalk robot token": re.compile(r"dingtalk\.com/robot/send\?access_token=[0-9a-fA-F]{32,}"),
    "WeCom robot key": re.compile(r"qyapi\.weixin\.qq\.com/cgi-bin/webhook/send\?key=[0-9a-fA-F-]{20,}"),
}

_URL_CREDENTIALS = re.compile(
    r"\b[a-zA-Z][a-zA-Z0-9+.-]*://(?P<user>[^\s:/@'\"`<>]*):(?P<password>[^\s@/'\"`<>]+)@(?P<host>[^\s/:'\"`<>?#]*)"
)
_EXAMPLE_HOST = re.compile(r"(^|\.)(example\.(com|net|org)|invalid|example|test)$")

_SECRET_NAME = re.compile(
    r"passw(?:or)?d|passwd|\bpwd\b|_pwd\b|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|credential",
    re.IGNORECASE,
)
# A key ending like this names where a secret is, not the secret.
_SECRET_NAME_EXCEPTIONS = re.compile(
    r"(_|\b)(file|path|dir|url|uri|env|var|variable|name|header|prefix|field|help|hint|description|pattern|"
    r"length|len|type|kind|mode|expires?|ttl|count|id|encryption|method|algorithm|timeout|required|enabled)$",
    re.IGNORECASE,
)
_ASSIGNMENT = re.compile(
    r"(?P<key>[\w.-]*(?:" + _SECRET_NAME.pattern + r")[\w.-]*)[\"']?[ \t]*(?::(?!//)|=)[ \t]*", re.IGNORECASE
)
_PLACEHOLDER = re.compile(
    r"^(|\$\$?\{[A-Za-z_]\w*(:?\?[^}]*|:?-)?\}|\$\$?[A-Za-z_]\w*|\{[^{}]*\}|\*+|<[^<>]+>|%\(\w+\)s|…|\.\.\.|"
    r"[A-Z][A-Z0-9_]{2,}|None|null|~|true|false)$"
)
_REFERENCE = re.compile(r"\$\{[^}]*\}|\{\{.*?\}\}")
# SQL's own form: create/alter role … password '…'.
_SQL_PASSWORD = re.compile(r"\bpassword\s+(?P<quote>['\"])(?P<value>[^'\"\n]*)(?P=quote)", re.IGNORECASE)
# A dbt/Jinja reference is fine, unless it falls back to a literal: {{ env_var('X', 'literal') }}.
_JINJA_DEFAULT = re.compile(r"env_var\(\s*['\"][^'\"]*['\"]\s*,\s*['\"][^'\"]+['\"]")

_CONFIG_SUFFIXES = {".yaml", ".yml", ".toml", ".ini", ".cfg", ".conf", ".env", ".json", ".sh", ".sql", ".properties"}
_CONFIG_NAMES = {"Dockerfile", "Makefile", ".env.example"}
_SECRET_FILES = re.compile(
    r"(^|/)(\.env(\.[\w-]+)?|.*\.(pem|key|p12|pfx|jks)|id_(rsa|dsa|ecdsa|ed25519)|\.pgpass|\.netrc)$"
)
_DOCUMENTED_ENV_FILES = re.compile(r"(^|/)\.env\.(example|sample|template)$")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    rule: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.rule}: {self.text}"


def repository_files() -> list[PurePosixPath]:
    """Tracked files and untracked ones git does not ignore, as repository-relative paths."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        pytest.skip(f"not a git checkout, nothing to list: {err}")
    return sorted({PurePosixPath(name) for name in listed.decode().split("\0") if name})


def is_placeholder(value: str) -> bool:
    """Whether a value names or points to a secret rather than being one."""
    value = value.strip()
    if value.startswith("{{") and value.endswith("}}"):
        return not _JINJA_DEFAULT.search(value)
    return bool(_PLACEHOLDER.match(value)) or " " in value


def config_value(rest: str) -> str:
    """The value at the start of ``rest`` (what follows ``key:`` or ``key=`` on a line of configuration)."""
    rest = rest.strip()
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        return rest[1:end] if end > 0 else rest[1:]
    if rest.startswith(("${", "{{")):
        closing = "}" if rest.startswith("${") else "}}"
        end = rest.find(closing)
        return rest[: end + len(closing)] if end > 0 else rest
    return re.split(r"[\s,}\]#]", rest, maxsplit=1)[0]


def scan_text(path: PurePosixPath, text: str) -> list[Finding]:
    """Every finding in one file's text."""
    findings: list[Finding] = []
    name = path.as_posix()
    if _SECRET_FILES.search(name) and not _DOCUMENTED_ENV_FILES.search(name):
        findings.append(Finding(name, 0, "a secrets file", path.name))
    lines = text.splitlines()
    in_tests = path.parts[:1] == ("tests",)
    for number, line in enumerate(lines, start=1):
        for rule, pattern in _HIGH_CONFIDENCE.items():
            if match := pattern.search(line):
                findings.append(Finding(name, number, rule, _shorten(match.group(0))))
        for match in _URL_CREDENTIALS.finditer(line) if not in_tests else ():
            password, host = match["password"], match["host"]
            if is_placeholder(password) or _EXAMPLE_HOST.search(host.lower()):
                continue
            findings.append(Finding(name, number, "password in a URL", match.group(0)))
    if not _assignment_rule_applies(path):
        return findings
    for number, line in enumerate(lines, start=1):
        for match in _SQL_PASSWORD.finditer(line):
            if not is_placeholder(match["value"]):
                findings.append(Finding(name, number, "literal password in SQL", _shorten(match.group(0))))
    if path.suffix == ".py":
        findings.extend(_python_assignments(name, text))
    else:
        for number, line in enumerate(lines, start=1):
            if line.lstrip().startswith(("#", "--", "//", ";")):
                continue
            references = [m.span() for m in _REFERENCE.finditer(line)]
            for match in _ASSIGNMENT.finditer(line):
                if any(start <= match.start() < end for start, end in references):
                    continue  # the name of the variable inside ${…} or {{ … }}
                separator = match.group(0)[len(match["key"]) :]
                if re.fullmatch(r"[\"']?[ \t]+:", separator) and line[match.end() : match.end() + 1] in ("'", '"'):
                    continue  # psql's variable interpolation, `password :'name'`
                key, value = match["key"], config_value(line[match.end() :])
                if _SECRET_NAME_EXCEPTIONS.search(key) or is_placeholder(value):
                    continue
                findings.append(Finding(name, number, f"literal value for {key}", _shorten(f"{key}: {value}")))
    return findings


def _assignment_rule_applies(path: PurePosixPath) -> bool:
    if path.parts and path.parts[0] == "tests":
        return False
    return path.suffix in _CONFIG_SUFFIXES or path.name in _CONFIG_NAMES or path.suffix == ".py"


def _python_assignments(name: str, text: str) -> list[Finding]:
    """``secret_name = "literal"``, ``f(password="literal")`` and ``{"token": "literal"}`` in Python."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    findings = []

    def check(key: str | None, value: ast.AST | None, line: int) -> None:
        if key is None or not isinstance(value, ast.Constant) or not isinstance(value.value, str):
            return
        if not _SECRET_NAME.search(key) or _SECRET_NAME_EXCEPTIONS.search(key) or is_placeholder(value.value):
            return
        findings.append(Finding(name, line, f"literal value for {key}", _shorten(f"{key} = {value.value!r}")))

    for node in ast.walk(tree):
        if isinstance(node, ast.Assign):
            for target in node.targets:
                check(_target_name(target), node.value, node.lineno)
        elif isinstance(node, ast.AnnAssign):
            check(_target_name(node.target), node.value, node.lineno)
        elif isinstance(node, ast.keyword):
            check(node.arg, node.value, node.value.lineno)
        elif isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and isinstance(key.value, str):
                    check(key.value, value, key.lineno)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args.posonlyargs + node.args.args
            defaults = [None] * (len(arguments) - len(node.args.defaults)) + list(node.args.defaults)
            for argument, default in [
                *zip(arguments, defaults, strict=True),
                *zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True),
            ]:
                check(argument.arg, default, argument.lineno)
    return findings


def _target_name(target: ast.AST) -> str | None:
    if isinstance(target, ast.Name):
        return target.id
    if isinstance(target, ast.Attribute):
        return target.attr
    if isinstance(target, ast.Subscript) and isinstance(target.slice, ast.Constant):
        return str(target.slice.value)
    return None


def _shorten(text: str) -> str:
    # Enough to find it, not enough to leak it further through test logs.
    return text if len(text) <= 24 else text[:20] + "…"


def _read(path: PurePosixPath) -> str | None:
    try:
        data = (REPO / path).read_bytes()
    except (FileNotFoundError, IsADirectoryError):
        return None  # listed by git, deleted in the work tree
    if b"\0" in data[:8192]:
        return None  # binary: xlsx fixtures, images
    return data.decode("utf-8", errors="replace")


def test_no_secrets_in_the_repository() -> None:
    files = repository_files()
    assert THIS_FILE in files, "the scan must cover this file too"
    findings = []
    for path in files:
        text = _read(path)
        if text is not None:
            findings.extend(scan_text(path, text))
        elif _SECRET_FILES.search(path.as_posix()) and not _DOCUMENTED_ENV_FILES.search(path.as_posix()):
            findings.append(Finding(path.as_posix(), 0, "a secrets file", path.name))
    assert not findings, (
        "Secrets in the repository: move each value to an environment variable or an Airflow connection "
        "(and rotate it: it was exposed), or make it an obvious placeholder:\n" + "\n".join(map(str, findings))
    )


# The scanner itself, on made-up samples. Samples are assembled at run time so
# that this file holds none of them literally.
_AT = "@"
_FAKE = "hunter" + "2x9Q"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("config/key.txt", _DASHES + "BEGIN RSA PRIVATE KEY" + _DASHES),
        ("config/key.txt", _DASHES + "BEGIN OPENSSH PRIVATE KEY" + _DASHES),
        ("x.md", "aws " + "AKIA" + "ABCDEFGHIJKLMNOP"),
        ("x.md", "curl -H 'Authorization: Bearer " + "abcdef0123456789abcdef'"),
        ("x.md", "postgresql://citydw:" + _FAKE + _AT + "db.city.gov.cn:5432/citydw"),
        ("x.md", "redis://:" + _FAKE + _AT + "redis:6379/0"),
        ("x.md", "https://oapi.dingtalk.com/robot/send?access_token=" + "0123456789abcdef" * 4),
        ("x.md", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=" + "693a91f6-7aaa-4bc4-97a0-0ec2afa5aaa0"),
        ("x.md", "postgresql://citydw:${CITYDW_DB_PASSWORD:-" + _FAKE + "}" + _AT + "postgres/citydw"),
        ("docker/compose.yaml", "      MB_DB_PASS" + "WORD: " + _FAKE),
        ("registry/x.yaml", "    token" + ": '" + _FAKE + "'"),
        ("docker/.env", "CITYDW_BI_PASSWORD" + "=" + _FAKE),
        ("ingestion/citydw/x.py", "PASSWORD" + ' = "' + _FAKE + '"'),
        ("ingestion/citydw/x.py", "connect(host='db', pass" + "word='" + _FAKE + "')"),
        ("config/x.json", '{"pass' + 'word":"' + _FAKE + '"}'),
        ("docker/x.sql", "alter role citydw_bi pass" + "word '" + _FAKE + "';"),
        ("ingestion/citydw/x.py", "headers = {'api_key" + "': '" + _FAKE + "'}"),
        ("ingestion/citydw/x.py", "def login(user, pass" + "word='" + _FAKE + "'): ..."),
        ("secrets/server.pem", "anything"),
        ("tests/fixtures/x.json", '{"key": "' + _DASHES + "BEGIN EC PRIVATE KEY" + _DASHES + '"}'),
    ],
)
def test_the_scanner_finds(name: str, text: str) -> None:
    assert scan_text(PurePosixPath(name), text), f"not flagged: {text}"


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "docker/compose.yaml",
            "      AIRFLOW__DATABASE__SQL_ALCHEMY_CONN: postgresql+psycopg2://airflow:${AIRFLOW_DB_"
            "PASSWORD}" + _AT + "postgres/airflow",
        ),
        ("docker/compose.yaml", "      AIRFLOW__API_AUTH__JWT_SECRET: ${AIRFLOW_JWT_SECRET:?set it in docker/.env}"),
        ("docker/.env.example", "CITYDW_BI_PASSWORD" + "="),
        ("dbt_project/profiles.yml", "      password: \"{{ env_var('CITYDW_PG_PASSWORD', '') }}\""),
        ("README.md", "postgresql://citydw:***" + _AT + "127.0.0.1:55432/citydw"),
        ("README.md", "postgresql://citydw_bi:<password>" + _AT + "localhost:5432/citydw"),
        ("ingestion/citydw/x.py", 'url = f"postgresql://{user}:{password}' + _AT + '{host}:{port}/{db}"'),
        ("ingestion/citydw/x.py", 'TOKEN_VARIABLE = "CITYDW_API_{}_TOKEN"'),
        ("ingestion/citydw/x.py", "token = settings.api_tokens[department].get_secret_value()"),
        ("ingestion/citydw/x.py", 'password_file = root / "password"'),
        ("ingestion/citydw/x.py", 'raise ValueError(password="Set CITYDW_BI_PASSWORD, or leave it unset.")'),
        ("tests/sources/test_api.py", 'TOKEN = "test-token-not-a-secret"'),
        ("tests/sources/test_api.py", "https://:conn-token" + _AT + "edu.example.invalid:8443/api/v1"),
        ("x.md", 'f"Bearer {token}" and Authorization: Bearer <token>'),
        ("docker/.env.example", "anything"),
        ("docker/postgres-init/x.sh", "create role citydw with login password :'citydw_password';"),
        ("docker/compose.yaml", '          --password "$${AIRFLOW_ADMIN_PASSWORD}"'),
        ("ingestion/citydw/x.py", '"""Airflow reads AIRFLOW_CONN_X=https://:TOKEN' + _AT + 'host:443/transport."""'),
        ("ingestion/citydw/x.py", 'settings = {"password_encryption": "scram-sha-256"}'),
        ("tests/ingestion/test_x.py", 'url = "postgresql://u:p%40w' + _AT + 'h:5433/old"'),
    ],
)
def test_the_scanner_lets_pass(name: str, text: str) -> None:
    assert scan_text(PurePosixPath(name), text) == []
