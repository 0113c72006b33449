"""LogInByAccount, LogOut, ValidateSession, session expiry and the Authorization header."""

from __future__ import annotations

import http.client
import json
import math
import re
import threading
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from conftest import ADMIN_PASSWORD, SESSION_EXPIRED_BODY, Server, sha512, without_session
from hypothesis import given, settings
from hypothesis import strategies as st

from aios_records.accounts.sessions import SessionManager
from aios_records.clock import Clock
from aios_records.http.bodies import MAX_BODY_BYTES
from aios_records.storage import database
from aios_records.storage.schema import session_table
from aios_records.storage.types import from_db_time, to_db_time

ADMIN_UUID = "36c27e8ff05c4780bf6d2fa65700f22e"
RECORDS = "/v1/ai/trained-model/records"
LOGIN = "/v1/accounts/login"
SESSION_UUID = re.compile(r"[0-9a-f]{32}")
REPLY_DATE = re.compile(
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) [1-9]\d?, \d{4} "
    r"(1[0-2]|[1-9]):[0-5]\d:[0-5]\d (AM|PM)"
)
WRONG_CREDENTIALS = (
    b'{"error":{"code":"ID.1000","description":"Unable to authenticate a user",'
    b'"details":"wrong account name or password"}}'
)
SHANGHAI = ZoneInfo("Asia/Shanghai")


def parse_reply_date(text: str) -> datetime:
    """Parse `Nov 19, 2025 6:20:07 PM` as a time in Asia/Shanghai (the test servers' zone)."""
    return datetime.strptime(text, "%b %d, %Y %I:%M:%S %p").replace(tzinfo=SHANGHAI)


def login_body(name: str = "admin", password: str = ADMIN_PASSWORD, **extra) -> bytes:
    params = {"accountName": name, "password": sha512(password), **extra}
    return json.dumps({"logInByAccount": params}).encode()


def open_engine(server: Server) -> sa.Engine:
    return database.create_engine(server.database_url)


def stored_expiry(server: Server, session_uuid: str) -> datetime | None:
    """Read `SessionVO.expiredDate` (UTC text) straight from the server's database."""
    engine = open_engine(server)
    try:
        with engine.connect() as conn:
            value = conn.execute(
                sa.select(session_table.c.expiredDate).where(session_table.c.uuid == session_uuid)
            ).scalar()
    finally:
        engine.dispose()
    if value is None:
        return None
    return datetime.strptime(value, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


def set_stored_expiry(server: Server, session_uuid: str, value: datetime) -> None:
    engine = open_engine(server)
    try:
        with engine.begin() as conn:
            updated = conn.execute(
                session_table.update().where(session_table.c.uuid == session_uuid).values(
                    expiredDate=value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"))
            ).rowcount
    finally:
        engine.dispose()
    assert updated == 1


def delete_all_sessions(server: Server) -> None:
    engine = open_engine(server)
    try:
        with engine.begin() as conn:
            conn.execute(session_table.delete())
    finally:
        engine.dispose()


def utc_now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


@pytest.fixture(scope="module")
def server(make_module_server) -> Server:
    """An empty database with the default session settings (timeout 7200 s)."""
    return make_module_server("--admin-password", ADMIN_PASSWORD)


@pytest.fixture(scope="module")
def short_server(make_module_server) -> Server:
    return make_module_server("--admin-password", ADMIN_PASSWORD, "--session-timeout", "3")


@pytest.fixture(scope="module")
def server_600(make_module_server) -> Server:
    return make_module_server("--admin-password", ADMIN_PASSWORD, "--session-timeout", "600")


@pytest.fixture(scope="module")
def server_300(make_module_server) -> Server:
    return make_module_server("--admin-password", ADMIN_PASSWORD, "--session-timeout", "300")


@pytest.fixture(scope="module")
def limited_server(make_module_server) -> Server:
    return make_module_server("--admin-password", ADMIN_PASSWORD, "--max-sessions", "3")


@pytest.fixture
def limited(limited_server) -> Server:
    """The `--max-sessions 3` server with no sessions left by earlier tests."""
    delete_all_sessions(limited_server)
    return limited_server


# -- LogInByAccount -----------------------------------------------------------


def test_login_reply_shape(server):
    before = utc_now()
    reply = server.login()
    after = utc_now()

    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    body = reply.json()
    assert list(body) == ["inventory"]
    inventory = body["inventory"]
    assert list(inventory) == ["uuid", "accountUuid", "userUuid", "expiredDate", "createDate",
                               "noSessionEvaluation"]
    assert SESSION_UUID.fullmatch(inventory["uuid"])
    assert inventory["accountUuid"] == ADMIN_UUID
    assert inventory["userUuid"] == ADMIN_UUID
    assert inventory["noSessionEvaluation"] is False
    assert REPLY_DATE.fullmatch(inventory["createDate"])
    assert REPLY_DATE.fullmatch(inventory["expiredDate"])

    created = parse_reply_date(inventory["createDate"])
    expires = parse_reply_date(inventory["expiredDate"])
    assert before <= created <= after
    assert expires - created == timedelta(seconds=7200)
    assert stored_expiry(server, inventory["uuid"]) == expires


def test_login_reply_compact(server):
    reply = server.login()
    compact = json.dumps(reply.json(), separators=(",", ":")).encode()
    assert reply.body == compact


def test_login_new_uuid_each_time(server):
    uuids = {server.login_session() for _ in range(3)}
    assert len(uuids) == 3


@pytest.mark.parametrize("extra", [
    {"accountType": "iam2"},
    {"captchaUuid": "5a1e4d0c2f6b4d1e9c3a7b8d9e0f1a2b", "verifyCode": "x7k2"},
    {"clientInfo": {"browser": "curl", "ip": "127.0.0.1"}},
    {"accountType": None, "captchaUuid": None, "verifyCode": None, "clientInfo": None},
    {"somethingNew": [1, 2, 3]},
])
def test_login_optional_fields(server, extra):
    reply = server.request("PUT", LOGIN, body=login_body(**extra))
    assert reply.status == 200, reply.text
    assert reply.json()["inventory"]["accountUuid"] == ADMIN_UUID


def test_login_unknown_top_level_key(server):
    body = json.dumps({"logInByAccount": {"accountName": "admin",
                                          "password": sha512(ADMIN_PASSWORD)},
                       "systemTags": [], "userTags": []})
    reply = server.request("PUT", LOGIN, body=body)
    assert reply.status == 200, reply.text


def test_login_ignores_content_type(server):
    reply = server.request("PUT", LOGIN, body=login_body(),
                           headers={"Content-Type": "text/plain"})
    assert reply.status == 200, reply.text


def test_login_ignores_authorization(server):
    reply = server.request("PUT", LOGIN, body=login_body(),
                           headers={"Authorization": "Bearer not-a-session"})
    assert reply.status == 200, reply.text


def test_login_uppercase_password_hash(server):
    body = json.dumps({"logInByAccount": {"accountName": "admin",
                                          "password": sha512(ADMIN_PASSWORD).upper()}})
    reply = server.request("PUT", LOGIN, body=body)
    assert reply.status == 200, reply.text


@pytest.mark.parametrize("name, password", [
    ("nobody", ADMIN_PASSWORD),
    ("admin", "wrong-password"),
    ("", ADMIN_PASSWORD),
    ("admin", ""),
])
def test_login_wrong_credentials(server, name, password):
    reply = server.login(name, password)
    assert reply.status == 503
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    assert reply.body == WRONG_CREDENTIALS


def test_login_plain_password_rejected(server):
    body = json.dumps({"logInByAccount": {"accountName": "admin", "password": ADMIN_PASSWORD}})
    reply = server.request("PUT", LOGIN, body=body)
    assert reply.status == 503
    assert reply.body == WRONG_CREDENTIALS


@pytest.mark.parametrize("body, named", [
    (b"not json", "logInByAccount"),
    (b"", "logInByAccount"),
    (b"[1, 2]", "logInByAccount"),
    (b'"logInByAccount"', "logInByAccount"),
    (b"null", "logInByAccount"),
    (b"\xff\xfe{}", "logInByAccount"),
    pytest.param(b"[" * 100_000, "logInByAccount", id="deep-nesting"),
    (b"{}", "logInByAccount"),
    (b'{"logInByAccount": null}', "logInByAccount"),
    (b'{"logInByAccount": "admin"}', "logInByAccount"),
    (b'{"logInByAccount": ["admin"]}', "logInByAccount"),
    (b'{"logInByAccount": {}}', "accountName"),
    (b'{"logInByAccount": {"password": "00"}}', "accountName"),
    (b'{"logInByAccount": {"accountName": "admin"}}', "password"),
    (b'{"logInByAccount": {"accountName": 5, "password": "00"}}', "accountName"),
    (b'{"logInByAccount": {"accountName": true, "password": "00"}}', "accountName"),
    (b'{"logInByAccount": {"accountName": null, "password": "00"}}', "accountName"),
    (b'{"logInByAccount": {"accountName": "admin", "password": ["00"]}}', "password"),
    (b'{"logInByAccount": {"accountName": "admin", "password": 1.5}}', "password"),
    (b'{"logInByAccount": {"accountName": "admin", "password": {}}}', "password"),
])
def test_login_malformed_body(server, body, named):
    reply = server.request("PUT", LOGIN, body=body)
    assert reply.status == 503, reply.text
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    error = reply.json()["error"]
    assert list(error) == ["code", "description", "details"]
    assert error["code"] == "SYS.1007"
    assert error["description"] == "One or more API argument is invalid"
    assert named in error["details"]


def test_login_body_at_limit(server):
    body = login_body()
    padded = body[:-1] + b" " * (MAX_BODY_BYTES - len(body)) + b"}"
    assert len(padded) == MAX_BODY_BYTES
    reply = server.request("PUT", LOGIN, body=padded)
    assert reply.status == 200, reply.text


def test_login_body_over_limit(server):
    body = login_body()
    padded = body[:-1] + b" " * (MAX_BODY_BYTES + 1 - len(body)) + b"}"
    reply = server.request("PUT", LOGIN, body=padded)
    assert reply.status == 400
    assert reply.headers["content-type"].startswith("text/plain")
    assert str(MAX_BODY_BYTES) in reply.text


def test_login_chunked_body_over_limit(server):
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    chunk = b" " * 65536
    chunks = [b'{"logInByAccount":'] + [chunk] * (MAX_BODY_BYTES // len(chunk) + 1) + [b"{}}"]
    try:
        connection.request("PUT", server.context_path + LOGIN, body=iter(chunks),
                           encode_chunked=True)
        response = connection.getresponse()
        status, text = response.status, response.read().decode()
    finally:
        connection.close()
    assert status == 400
    assert str(MAX_BODY_BYTES) in text


def test_login_account_name_case(server):
    reply = server.login("ADMIN")
    assert reply.status == 200, reply.text
    assert reply.json()["inventory"]["accountUuid"] == ADMIN_UUID


# -- LogOut and ValidateSession -----------------------------------------------


def test_logout_ends_session(server):
    session = server.login_session()
    assert server.get(RECORDS, session=session).status == 200

    reply = without_session(server).request(
        "DELETE", f"/v1/accounts/sessions/{session}?sessionUuid=ffffffffffffffffffffffffffffffff")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    assert reply.body == b"{}"

    after = server.get(RECORDS, session=session)
    assert after.status == 503
    assert after.body == SESSION_EXPIRED_BODY
    assert stored_expiry(server, session) is None
    assert server.get(f"/v1/accounts/sessions/{session}/valid").body == b'{"valid":false}'


def test_logout_ignores_session_parameter(server):
    logged_out = server.login_session()
    still_live = server.login_session()
    path = f"/v1/accounts/sessions/{logged_out}?sessionUuid={still_live}"
    reply = server.request("DELETE", path, session=still_live)
    assert reply.status == 200
    assert server.get(RECORDS, session=still_live).status == 200
    assert server.get(RECORDS, session=logged_out).status == 503


@pytest.mark.parametrize("target", [
    "00000000000000000000000000000000",
    "not-a-session",
    "%27%3B%20DROP%20TABLE%20SessionVO%3B--",
])
def test_logout_unknown_silent(server, target):
    live = server.login_session()
    reply = without_session(server).request("DELETE", f"/v1/accounts/sessions/{target}")
    assert reply.status == 200
    assert reply.body == b"{}"
    assert server.get(RECORDS, session=live).status == 200


def test_logout_twice(server):
    session = server.login_session()
    for _ in range(2):
        reply = without_session(server).request("DELETE", f"/v1/accounts/sessions/{session}")
        assert reply.status == 200
        assert reply.body == b"{}"


def test_validate_live_and_unknown(server):
    session = server.login_session()
    live = without_session(server).get(f"/v1/accounts/sessions/{session}/valid")
    assert live.status == 200
    assert live.headers["content-type"] == "application/json;charset=utf-8"
    assert live.body == b'{"valid":true}'

    unknown_path = "/v1/accounts/sessions/0123456789abcdef0123456789abcdef/valid"
    unknown = without_session(server).get(unknown_path)
    assert unknown.status == 200
    assert unknown.body == b'{"valid":false}'


def test_validate_does_not_renew(server_600):
    session = server_600.login_session()
    # Back-date the stored expiry by more than the 60 s write step, so a
    # renewing call would rewrite it.
    back_dated = utc_now() + timedelta(seconds=600 - 300)
    set_stored_expiry(server_600, session, back_dated)

    for _ in range(2):
        reply = server_600.get(f"/v1/accounts/sessions/{session}/valid")
        assert reply.body == b'{"valid":true}'
    assert stored_expiry(server_600, session) == back_dated

    assert server_600.get(RECORDS, session=session).status == 200
    assert stored_expiry(server_600, session) > back_dated


# -- expiry and sliding renewal -----------------------------------------------


def test_idle_session_expires(short_server):
    session = short_server.login_session()
    assert short_server.get(f"/v1/accounts/sessions/{session}/valid").body == b'{"valid":true}'

    time.sleep(3.5)
    assert short_server.get(f"/v1/accounts/sessions/{session}/valid").body == b'{"valid":false}'
    reply = short_server.get(RECORDS, session=session)
    assert reply.status == 503
    assert reply.headers["content-type"] == "application/json;charset=utf-8"
    assert reply.body == SESSION_EXPIRED_BODY
    # The expired row is deleted when the check finds it expired.
    assert stored_expiry(short_server, session) is None


def test_used_session_slides(short_server):
    session = short_server.login_session()
    first_expiry = stored_expiry(short_server, session)
    started = time.monotonic()
    while time.monotonic() - started < 5.5:
        time.sleep(1.0)
        reply = short_server.get(RECORDS, session=session)
        assert reply.status == 200, reply.text
    assert stored_expiry(short_server, session) >= first_expiry + timedelta(seconds=4)


def test_quick_requests_skip_write(server_600):
    session = server_600.login_session()
    stored = stored_expiry(server_600, session)
    # The clock has whole seconds, so a renewal after this pause would move
    # the expiry by at least 1 s, well below the 60 s write step.
    time.sleep(1.1)
    for _ in range(2):
        assert server_600.get(RECORDS, session=session).status == 200
    assert stored_expiry(server_600, session) == stored


@pytest.mark.parametrize("server_name, timeout, behind, rewritten", [
    # timeout 600 s: the write step is min(60 s, 60 s) = 60 s
    ("server_600", 600, 45, False),
    ("server_600", 600, 75, True),
    # timeout 300 s: the write step is min(60 s, 30 s) = 30 s
    ("server_300", 300, 20, False),
    ("server_300", 300, 45, True),
])
def test_expiry_write_step(request, server_name, timeout, behind, rewritten):
    server = request.getfixturevalue(server_name)
    session = server.login_session()
    old = utc_now() + timedelta(seconds=timeout - behind)
    set_stored_expiry(server, session, old)

    assert server.get(RECORDS, session=session).status == 200
    new = stored_expiry(server, session)
    if rewritten:
        assert abs(new - (utc_now() + timedelta(seconds=timeout))) <= timedelta(seconds=2)
    else:
        assert new == old


def test_expired_row_rejected(server_600):
    session = server_600.login_session()
    set_stored_expiry(server_600, session, utc_now() - timedelta(seconds=1))
    reply = server_600.get(RECORDS, session=session)
    assert reply.status == 503
    assert reply.body == SESSION_EXPIRED_BODY
    assert stored_expiry(server_600, session) is None


RENEWAL_LOG = re.compile(r"session of account \S+ renewed until ")


def test_concurrent_requests_renew_once(make_server):
    """Requests of one session that all find its renewal due write it once per process."""
    server = make_server("--admin-password", ADMIN_PASSWORD, "--session-timeout", "600",
                         "--log-level", "debug")
    session = server.login_session()
    requests_per_round = 24

    # Duplicate writes depend on thread timing, so several rounds make a
    # missing single-flight show: 4 of 5 runs of 3 rounds caught it.
    for round_number in range(6):
        # Back-dated by more than the 60 s write step, so every request of
        # the round finds the renewal due when it reads the row.
        set_stored_expiry(server, session, utc_now() + timedelta(seconds=600 - 300))
        renewals_before = len(RENEWAL_LOG.findall(server.log_text()))
        start = threading.Barrier(requests_per_round)
        statuses: list[int] = []

        def call() -> None:
            start.wait()
            statuses.append(server.get(RECORDS, session=session).status)

        threads = [threading.Thread(target=call) for _ in range(requests_per_round)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        assert statuses == [200] * requests_per_round, f"round {round_number}"
        renewals = len(RENEWAL_LOG.findall(server.log_text())) - renewals_before
        assert renewals == 1, f"round {round_number}: {renewals} renewals written"
        renewed = stored_expiry(server, session)
        assert abs(renewed - (utc_now() + timedelta(seconds=600))) <= timedelta(seconds=2)


# -- maximum concurrent sessions ----------------------------------------------


def test_fourth_login_rejected(limited):
    sessions = [limited.login_session() for _ in range(3)]

    reply = limited.login()
    assert reply.status == 503
    error = reply.json()["error"]
    assert error["code"] == "ID.1006"
    assert error["description"] == "Max number of active sessions exceeded"
    assert error["details"]

    for session in sessions:
        assert limited.get(RECORDS, session=session).status == 200

    limited.request("DELETE", f"/v1/accounts/sessions/{sessions[0]}")
    assert limited.login().status == 200
    assert limited.login().status == 503


def test_expired_sessions_not_counted(limited):
    sessions = [limited.login_session() for _ in range(3)]
    set_stored_expiry(limited, sessions[1], utc_now() - timedelta(seconds=5))
    assert limited.login().status == 200


def test_concurrent_logins_capped(limited):
    statuses: list[int] = []
    lock = threading.Lock()

    def log_in():
        status = limited.login().status
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=log_in) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 200, 503, 503, 503]


# -- Authorization header -----------------------------------------------------


def test_header_missing(server):
    for path in (RECORDS, f"{RECORDS}/00000000000000000000000000000000",
                 "/v1/ai/trained-model/record/00000000000000000000000000000000"):
        reply = without_session(server).get(path)
        assert reply.status == 400
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.text == "missing header 'Authorization'"


@pytest.mark.parametrize("value", [
    "Bearer 0123456789abcdef0123456789abcdef",
    "",
    "   ",
    "oauth 0123456789abcdef0123456789abcdef",
    "OAUTH 0123456789abcdef0123456789abcdef",
    "ZStack AKIDEXAMPLE:Zm9vYmFy",
    "Basic YWRtaW46cGFzc3dvcmQ=",
    "x OAuth 0123456789abcdef0123456789abcdef",
])
def test_header_wrong_scheme(server, value):
    reply = without_session(server).get(RECORDS, headers={"Authorization": value})
    assert reply.status == 400
    assert reply.headers["content-type"].startswith("text/plain")
    assert reply.text == "Authorization type must be 'OAuth'"


@pytest.mark.parametrize("template", [
    "OAuth {}",
    "OAuth{}",
    "  OAuth {}  ",
    "OAuth    {}",
    "\tOAuth {}",
])
def test_header_accepted_forms(server, template):
    session = server.login_session()
    header = {"Authorization": template.format(session)}
    reply = without_session(server).get(RECORDS, headers=header)
    assert reply.status == 200, reply.text


@pytest.mark.parametrize("value", [
    "OAuth 0123456789abcdef0123456789abcdef",
    "OAuth",
    "OAuth not-a-session",
    "OAuth 0123456789abcdef0123456789abcdef extra",
])
def test_header_unknown_session(server, value):
    reply = without_session(server).get(RECORDS, headers={"Authorization": value})
    assert reply.status == 503
    assert reply.body == SESSION_EXPIRED_BODY


# -- judging a session row without the database --------------------------------------


class SettableClock(Clock):
    """A Clock at a given POSIX time, with a fraction of a second."""

    def __init__(self, seconds: float) -> None:
        super().__init__()
        self.at = seconds

    def now(self) -> datetime:
        # The whole second that `seconds` falls in. fromtimestamp() of the
        # float itself would round X.9999999 up to the next second.
        return datetime.fromtimestamp(math.floor(self.at), timezone.utc)

    def seconds(self) -> float:
        return self.at


def live_without_renewal(manager: SessionManager, stored: str, now: datetime) -> bool:
    """The rule of `SessionManager.check`, in datetimes: live, and not due for renewal."""
    expiry = from_db_time(stored)
    return expiry > now and now + manager.timeout - expiry <= manager.renew_step


@settings(max_examples=400, deadline=None)
@given(timeout=st.integers(min_value=1, max_value=10 ** 6),
       expiry=st.integers(min_value=1_700_000_000, max_value=1_900_000_000),
       offsets=st.lists(st.floats(min_value=-2e6, max_value=2e6, allow_nan=False),
                        min_size=1, max_size=4))
def test_kept_verdict_follows_the_renewal_rule(timeout, expiry, offsets):
    # The verdict of a row is kept and compared with the clock in POSIX
    # seconds. At every instant it must agree with the datetime rule.
    clock = SettableClock(0.0)
    manager = SessionManager(None, timeout, 10, clock)
    stored = to_db_time(datetime.fromtimestamp(expiry, timezone.utc))
    account = "ac" * 16

    for offset in offsets:
        clock.at = expiry + offset
        expected = account if live_without_renewal(manager, stored, clock.now()) else None
        assert manager.current_account("5e" * 16, (account, stored)) == expected


def test_kept_verdict_needs_the_same_account():
    clock = SettableClock(1_800_000_000.0)
    manager = SessionManager(None, 600, 10, clock)
    stored = to_db_time(datetime.fromtimestamp(1_800_000_590, timezone.utc))

    assert manager.current_account("5e" * 16, ("a1" * 16, stored)) == "a1" * 16
    # A row naming another account for the same session and expiry is not
    # judged by the kept verdict of the first.
    assert manager.current_account("5e" * 16, ("b2" * 16, stored)) is None


def test_expiry_near_year_one_needs_check():
    # Datetime arithmetic overflows this close to year 1. The verdict must
    # still send such a row to `check`, which removes it.
    manager = SessionManager(None, 600, 10, SettableClock(1_800_000_000.0))

    assert manager.current_account("5e" * 16, ("a1" * 16, "0001-01-01 00:00:00")) is None


def test_clock_subclass_of_now_moves_seconds():
    class Fixed(Clock):
        def now(self) -> datetime:
            return datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)

    assert Fixed().seconds() == datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc).timestamp()
