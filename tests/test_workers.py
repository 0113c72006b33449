"""`serve --workers N`: several processes share the port, the database and the sessions."""

import subprocess

import pytest


def worker_pids(server) -> list[int]:
    """Return the pids of the uvicorn worker processes under the server's process."""
    supervisor = subprocess.run(["ps", "-o", "pid=", "--ppid", str(server.process.pid)],
                                capture_output=True, text=True, check=True).stdout.split()
    workers = []
    for pid in supervisor:
        workers += subprocess.run(["ps", "-o", "pid=", "--ppid", pid], capture_output=True,
                                  text=True).stdout.split()
    return [int(pid) for pid in supervisor + workers]


@pytest.fixture(scope="module")
def server(make_module_server):
    return make_module_server("--admin-password", "password", "--workers", "2")


def test_two_workers_answer_with_one_session(server):
    session = server.login_session()
    statuses = [server.get("/v1/ai/trained-model/records?count=true", session=session).status
                for _ in range(30)]
    assert statuses == [200] * 30


def test_two_worker_processes_run(server):
    server.login_session()
    assert len(worker_pids(server)) >= 2
