"""The portal's JSON API and pages against a real warehouse: verdicts, submissions, who may do what."""

from __future__ import annotations

import io
import zipfile
from datetime import date

import openpyxl
from builders import drc_project, drc_workbook
from portal_client import csrf_of, log_in

JULY = date(2022, 7, 1)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def post_file(client, path, token, data: bytes, dataset="drc.major_projects", month="2022-07", name="report.xlsx"):
    return client.post(
        path, headers=bearer(token) if token else {}, data={"dataset": dataset, "month": month},
        files={"file": (name, data, "application/octet-stream")},
    )  # fmt: skip


def test_api_check_returns_row_problems_and_a_blocking_problem_naming_the_missing_column(portal, clerks, db):
    bad_row = drc_workbook([drc_project(1), drc_project(2, 所在地区="火星区")], JULY)
    answer = post_file(portal, "/api/check", clerks["clerk1"], bad_row)
    assert answer.status_code == 200
    body = answer.json()
    assert (body["verdict"], body["exit_code"], body["rows_received"]) == ("row", 2, 2)
    [problem] = body["problems"]
    assert (problem["source_row"], problem["header"], problem["value"]) == (5, "所在地区", "火星区")

    without_code = drc_workbook([drc_project(1)], JULY, omit=("项目代码",))
    body = post_file(portal, "/api/check", clerks["clerk1"], without_code).json()
    assert body["verdict"] == "blocking" and body["exit_code"] == 1
    assert any("项目代码" in p["rule"] for p in body["blocking"])
    assert db.execute("select count(*) from meta.deliveries").fetchone()[0] == 0
    audited = db.execute("select username, action, detail from meta.portal_audit where action = 'check'").fetchall()
    assert [(u, a) for u, a, _ in audited] == [("clerk1", "check"), ("clerk1", "check")]


def test_api_submit_makes_a_version_in_meta_deliveries_as_the_clerks(portal, clerks, db):
    good = drc_workbook([drc_project(1), drc_project(2)], JULY)
    answer = post_file(portal, "/api/submit", clerks["clerk1"], good, name="../../etc/passwd")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["status"], body["version"], body["submitted_by"], body["rows_loaded"]) == ("accepted", 1, "clerk1", 2)
    row = db.execute(
        "select version, status, submitted_by, file_name, source_uri from meta.deliveries where delivery_id = %s",
        (body["delivery_id"],),
    ).fetchone()
    assert row[:4] == (1, "accepted", "clerk1", "passwd")  # the client's path is only a label, cut to its name
    assert row[4].startswith("portal://clerk1/")
    assert db.execute("select count(*) from raw.drc__major_projects").fetchone()[0] == 2

    corrected = drc_workbook([drc_project(1), drc_project(2), drc_project(3)], JULY)
    body = post_file(portal, "/api/submit", clerks["clerk1"], corrected).json()
    assert (body["status"], body["version"]) == ("accepted", 2)
    assert db.execute(
        "select version, status, submitted_by from meta.deliveries where dataset = 'drc.major_projects' order by version"
    ).fetchall() == [(1, "superseded", "clerk1"), (2, "accepted", "clerk1")]
    assert db.execute("select count(*) from meta.portal_audit where action = 'submit'").fetchone()[0] == 2


def test_another_departments_dataset_is_403_and_no_token_is_401(portal, clerks, db):
    csv = "债券编码,债券名称\n".encode()
    for path in ("/api/check", "/api/submit"):
        answer = post_file(portal, path, clerks["clerk1"], csv, dataset="finance.bond_allocations", name="b.csv")
        assert answer.status_code == 403, answer.text
        assert "不属于本单位" in answer.json()["detail"]
        assert post_file(portal, path, None, csv).status_code == 401
        assert post_file(portal, path, "cdp_not-a-token", csv).status_code == 401
    assert (
        portal.get("/api/templates/finance.bond_allocations/xlsx", headers=bearer(clerks["clerk1"])).status_code == 403
    )
    assert db.execute("select count(*) from meta.deliveries").fetchone()[0] == 0
    assert db.execute("select count(*) from meta.portal_audit where action = 'forbidden'").fetchone()[0] == 3


def test_a_new_token_revokes_the_old_one(portal, clerks, db):
    from citydw.portal import accounts

    fresh = accounts.issue_token(db, "clerk1")
    good = drc_workbook([drc_project(1)], JULY)
    assert post_file(portal, "/api/check", clerks["clerk1"], good).status_code == 401
    assert post_file(portal, "/api/check", fresh, good).status_code == 200
    stored = db.execute("select token_sha256 from meta.portal_users where username = 'clerk1'").fetchone()[0]
    assert fresh not in stored and len(stored) == 64


def test_uploads_over_the_cap_zip_bombs_and_xml_entities_are_refused(portal, clerks, db):
    too_big = b"x" * (1024 * 1024 + 10)  # the fixture caps uploads at 1 MB
    answer = post_file(portal, "/api/check", clerks["clerk1"], too_big)
    assert answer.status_code == 413 and "上限" in answer.json()["detail"]

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"0" * (60 * 1024 * 1024))
    answer = post_file(portal, "/api/check", clerks["clerk1"], bomb.getvalue())
    assert answer.status_code == 400 and "压缩炸弹" in answer.json()["detail"]

    good = drc_workbook([drc_project(1)], JULY)
    entity = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(good)) as source, zipfile.ZipFile(entity, "w", zipfile.ZIP_DEFLATED) as target:
        for part in source.infolist():
            data = source.read(part)
            if part.filename == "xl/sharedStrings.xml":
                data = data.replace(b"?>", b'?><!DOCTYPE sst [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>', 1)
            target.writestr(part, data)
    answer = post_file(portal, "/api/check", clerks["clerk1"], entity.getvalue())
    assert answer.status_code == 400 and "DOCTYPE" in answer.json()["detail"]
    assert db.execute("select count(*) from meta.deliveries").fetchone()[0] == 0


def test_pages_need_a_login_and_forms_need_the_csrf_token(portal, clerks, db):
    assert portal.get("/", follow_redirects=False).headers["location"] == "/login"
    token = csrf_of(portal.get("/login").text)
    answer = portal.post("/login", data={"username": "clerk1", "password": "correct-horse-7", "csrf_token": "forged"})
    assert answer.status_code == 403
    assert log_in(portal).status_code == 303
    home = portal.get("/")
    assert "市发展和改革委员会" in home.text and "重大项目月度调度表" in home.text
    assert "专项债券" not in home.text  # another department's datasets are not listed
    upload = {"dataset": "drc.major_projects", "month": "2022-07"}
    files = {"file": ("r.xlsx", drc_workbook([drc_project(1)], JULY), "application/octet-stream")}
    assert portal.post("/check", data=upload, files=files).status_code == 403  # no CSRF token
    page = portal.post("/check", data={**upload, "csrf_token": csrf_of(home.text)}, files=files)
    assert page.status_code == 200 and "校验通过" in page.text
    assert token  # the login page issued one before the login, too


def test_failed_logins_are_throttled_and_audited(portal, clerks, db):
    for _ in range(5):
        assert log_in(portal, password="wrong-password").status_code == 401
    answer = log_in(portal)  # the right password, but too late
    assert answer.status_code == 429 and "分钟后再试" in answer.text
    actions = db.execute("select action from meta.portal_audit where username = 'clerk1' order by audit_id").fetchall()
    assert [a for (a,) in actions if a != "token_issued"] == ["login_failed"] * 5 + ["login_throttled"]
    assert log_in(portal, "fin1").status_code == 303  # another account from the same client still gets in


def test_template_download_is_the_months_form(portal, clerks):
    answer = portal.get("/api/templates/drc.major_projects/xlsx?month=2022-07", headers=bearer(clerks["clerk1"]))
    assert answer.status_code == 200
    assert "filename*=UTF-8''" in answer.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    assert sheet["A1"].value == "扬州市2022年1-7月重大项目月度调度表"


def test_the_overview_judges_lateness_by_the_first_version_not_a_later_correction(portal, clerks, db):
    from datetime import UTC, datetime

    from citydw.pipeline import Context, ingest
    from citydw.sources import Candidate

    context = Context.load()
    on_time = drc_workbook([drc_project(1)], JULY)
    candidate = Candidate("v1.xlsx", "file:///drop/v1.xlsx", datetime(2022, 8, 1, 9, tzinfo=UTC), lambda: on_time)
    assert ingest(db, context.registry.dataset("drc.major_projects"), JULY, context, [candidate]).status == "accepted"
    correction = drc_workbook([drc_project(1), drc_project(2)], JULY)
    assert post_file(portal, "/api/submit", clerks["clerk1"], correction).json()["version"] == 2

    [row] = portal.get("/api/overview?month=2022-07", headers=bearer(clerks["clerk1"])).json()["datasets"]
    assert (row["due_date"], row["version"], row["submitted_by"], row["is_late"]) == ("2022-08-05", 2, "clerk1", False)


def test_a_successful_login_starts_the_failure_count_afresh(portal, clerks):
    for _ in range(4):
        assert log_in(portal, password="wrong-password").status_code == 401
    assert log_in(portal).status_code == 303
    for _ in range(4):
        assert log_in(portal, password="wrong-password").status_code == 401
    assert log_in(portal).status_code == 303  # 8 failures in 15 minutes, but never 5 in a row


def test_a_month_that_is_not_yyyy_mm_is_422_with_the_form_it_needs(portal, clerks):
    good = drc_workbook([drc_project(1)], JULY)
    answer = post_file(portal, "/api/check", clerks["clerk1"], good, month="2022年7月")
    assert answer.status_code == 422 and "YYYY-MM" in answer.json()["detail"]
    log_in(portal)
    assert portal.get("/check?month=July").status_code == 422


def test_a_body_without_a_length_is_cut_off_at_the_cap_as_it_streams_in(live_portal, clerks):
    import time

    import httpx

    sent = 0

    def endless():
        nonlocal sent
        yield b'--b\r\nContent-Disposition: form-data; name="file"; filename="x.xlsx"\r\n\r\n'
        for _ in range(400):  # 100 MB offered, chunked (no Content-Length); the cap is 20 MB
            sent += 1
            time.sleep(0.001)
            yield b"0" * (256 * 1024)

    headers = {**bearer(clerks["clerk1"]), "Content-Type": "multipart/form-data; boundary=b"}
    try:
        answer = httpx.post(f"{live_portal}/api/check", headers=headers, content=endless(), timeout=60)
    except (httpx.WriteError, httpx.RemoteProtocolError, httpx.ReadError):
        answer = None  # the server closed the connection on a client still sending: also a refusal
    if answer is not None:
        assert answer.status_code == 413, answer.text
        assert "上限" in answer.json()["detail"]
    assert sent < 200  # the server stopped reading long before the end
