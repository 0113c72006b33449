"""The shell example of the README runs against a real server."""

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "examples" / "register-fine-tune.sh"


def test_pipeline_script_registers_and_finds_record(make_server):
    server = make_server("--demo")
    session = server.login_session()
    result = subprocess.run(
        ["bash", str(SCRIPT)], capture_output=True, text=True, timeout=120,
        env={**os.environ, "SESSION": session,
             "AIOS_URL": f"http://127.0.0.1:{server.port}/zstack"},
    )
    assert result.returncode == 0, result.stderr

    record_uuid = re.search(r"registered record ([0-9a-f]{32})", result.stdout).group(1)
    found = server.get(f"/v1/ai/trained-model/records?q=uuid={record_uuid}",
                       session=session).json()["inventories"]
    assert len(found) == 1
    assert f'"uuid":"{record_uuid}"' in result.stdout.splitlines()[-1]


def test_readme_shows_pipeline_script():
    script = SCRIPT.read_text(encoding="utf-8")
    body = script.split("\n", 3)[3]  # without the shebang and the two comment lines
    for readme in ("README.md", "README.zh-CN.md"):
        assert body in (ROOT / readme).read_text(encoding="utf-8"), readme
