"""The data directory protects the session ids in the database, and --demo logs what it did."""

import socket
import stat
import time

from conftest import run_cli, sqlite_only


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_new_data_dir_private(tmp_path):
    data_dir = tmp_path / "fresh"
    run_cli("db", "upgrade", "--data-dir", str(data_dir))
    assert mode(data_dir) == 0o700


@sqlite_only
def test_new_database_files_private(tmp_path):
    data_dir = tmp_path / "fresh"
    run_cli("demo-data", "--data-dir", str(data_dir), "--records", "3")
    database_files = sorted(data_dir.glob("aios-records.sqlite3*"))
    assert [path.name for path in database_files][0] == "aios-records.sqlite3"
    for path in database_files:
        assert mode(path) == 0o600, path.name


def test_demo_keeps_existing_admin_password(make_server, tmp_path):
    data_dir = tmp_path / "demo"
    first = make_server("--demo", "--admin-password", "secret1", data_dir=data_dir)
    first.stop()
    second = make_server("--demo", data_dir=data_dir)

    assert second.login("admin", "secret1").status == 200
    log = second.log_text()
    assert "the admin password is 'password'" not in log
    assert "keeps its password" in log
    assert "the demo world was not written" in log


def test_partial_body_logged_not_crashed(make_server):
    server = make_server("--admin-password", "password")
    session = server.login_session()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"POST /zstack/v1/ai/models HTTP/1.1\r\nHost: x\r\n"
                     b"Authorization: OAuth " + session.encode() + b"\r\n"
                     b"Content-Length: 100\r\n\r\n{\"param\"")
    deadline = time.monotonic() + 10
    while "disconnected before sending its whole body" not in server.log_text():
        assert time.monotonic() < deadline, server.log_text()
        time.sleep(0.1)
    assert server.login().status == 200
    assert "Traceback" not in server.log_text()
