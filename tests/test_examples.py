"""The shell example of the README runs against a real server."""

import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "register-fine-tune.sh"
TWO_TEAMS = ROOT / "examples" / "two-teams.sh"


def run_example(script: Path, server, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["bash", str(script)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "AIOS_URL": f"http://127.0.0.1:{server.port}/zstack", **env},
    )


def test_pipeline_script_registers_and_finds_record(make_server):
    server = make_server("--demo")
    session = server.login_session()
    result = run_example(SCRIPT, server, SESSION=session)
    assert result.returncode == 0, result.stderr

    record_uuid = re.search(r"registered record ([0-9a-f]{32})", result.stdout).group(1)
    found = server.get(f"/v1/ai/trained-model/records?q=uuid={record_uuid}",
                       session=session).json()["inventories"]
    assert len(found) == 1
    assert f'"uuid":"{record_uuid}"' in result.stdout.splitlines()[-1]


def test_two_teams_walk_through(make_server):
    server = make_server("--demo")
    result = run_example(TWO_TEAMS, server)
    assert result.returncode == 0, result.stderr

    lines = result.stdout.splitlines()
    assert lines[0] == "team-a sees 1 record(s)"
    assert lines[1] == "team-b sees 1 record(s)"
    assert lines[2] == "team-b sees 0 model(s) named qwen7b-team-a"
    assert lines[3] == "after sharing, team-b sees 1 model(s) named qwen7b-team-a"
    assert lines[4] == "team-a's record stays private: team-b sees 0 record(s) of it"
    admin_total = server.get("/v1/ai/trained-model/records?count=true",
                             session=server.login_session()).json()["total"]
    assert admin_total == 2002


@pytest.mark.parametrize("script", [SCRIPT, TWO_TEAMS], ids=["pipeline", "two-teams"])
def test_readme_shows_example(script):
    text = script.read_text(encoding="utf-8")
    body = text.split("\n", 3)[3]  # without the shebang and the two comment lines
    for readme in ("README.md", "README.zh-CN.md"):
        assert body in (ROOT / readme).read_text(encoding="utf-8"), readme
