"""``citydw portal user add`` and ``citydw portal token``: accounts made from the command line."""

from __future__ import annotations

from typer.testing import CliRunner

from citydw.cli import app
from citydw.portal import accounts


def test_user_add_reads_the_password_from_stdin_and_prints_the_token_last(db):
    added = CliRunner().invoke(app, ["portal", "user", "add", "clerk9", "--department", "drc"], input="long-password\n")
    assert added.exit_code == 0, added.output
    token = added.output.strip().splitlines()[-1]
    assert accounts.user_by_token(db, token) == accounts.User(
        db.execute("select user_id from meta.portal_users where username = 'clerk9'").fetchone()[0], "clerk9", "drc"
    )
    assert accounts.authenticate(db, "clerk9", "long-password") is not None
    stored = db.execute("select password_hash, token_sha256 from meta.portal_users").fetchone()
    assert stored[0].startswith("$argon2") and "long-password" not in stored[0] and token not in stored[1]

    renewed = CliRunner().invoke(app, ["portal", "token", "clerk9"])
    assert renewed.exit_code == 0
    new_token = renewed.output.strip().splitlines()[-1]
    assert new_token != token
    assert accounts.user_by_token(db, token) is None and accounts.user_by_token(db, new_token) is not None


def test_user_add_refuses_an_unknown_department_a_short_password_and_a_second_account_of_the_same_name(db):
    runner = CliRunner()
    unknown = runner.invoke(app, ["portal", "user", "add", "x1", "--department", "nowhere"], input="long-password\n")
    assert unknown.exit_code == 1 and "nowhere" in unknown.output
    short = runner.invoke(app, ["portal", "user", "add", "x1", "--department", "drc"], input="short\n")
    assert short.exit_code == 1 and "8" in short.output
    assert (
        runner.invoke(app, ["portal", "user", "add", "x1", "--department", "drc"], input="long-password\n").exit_code
        == 0
    )
    again = runner.invoke(app, ["portal", "user", "add", "x1", "--department", "drc"], input="long-password\n")
    assert again.exit_code == 1 and "exists" in again.output
    assert runner.invoke(app, ["portal", "token", "nobody"]).exit_code == 1
