"""aios-cli against a real server: parsing, exit codes, sessions, output, languages, the shell."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import ADMIN_PASSWORD, free_port, sha512
from prompt_toolkit.input import create_pipe_input
from prompt_toolkit.output import DummyOutput

from aios_records.accounts.bootstrap import ensure_admin
from aios_records.cli import main
from aios_records.cli.config import load_config
from aios_records.cli.messages import UsageError
from aios_records.cli.parser import ApiCall, parse_call, parse_line, split_words
from aios_records.cli.runner import Runner
from aios_records.cli.sessions import SavedSession, SessionStore
from aios_records.cli.shell import Shell
from aios_records.demo import write_demo_world
from aios_records.storage import database

RECORDS = 50
EXAMPLE_UUID = "d374c0670c744f0f85c9d33041475eb1"
RECORD = "QueryTrainedModelRecord"
LOGIN = ("LogInByAccount", "accountName=admin", "password=password")


def write_world(database_url: str) -> None:
    """Write the admin account and a 50-record demo world, as `demo-data` does."""
    engine = database.create_engine(database_url)
    try:
        ensure_admin(engine, ADMIN_PASSWORD, None)
        write_demo_world(engine, records=RECORDS, seed=1)
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def server(make_module_server):
    """A server over a 50-record demo world that these tests may write to."""
    return make_module_server(prepare=write_world)


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    """Point the CLI's config and state directories into tmp_path, in English."""
    for name in list(os.environ):
        if name.startswith("AIOS_CLI_") or name in ("LC_ALL", "LC_MESSAGES", "LANG"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    return tmp_path


def session_file(home: Path) -> Path:
    return home / "state" / "aios-cli" / "session"


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)

    def error(self) -> dict:
        return json.loads(self.stderr[:self.stderr.rindex("}") + 1])["error"]


def cli(server, *words: str, stdin: str = "", options: tuple[str, ...] = ()) -> Run:
    """Run aios-cli in this process against `server`; stdin is a pipe, not a terminal."""
    stdout, stderr = io.StringIO(), io.StringIO()
    arguments = ["--port", str(server.port), *options, *words]
    status = main(arguments, stdin=io.StringIO(stdin), stdout=stdout, stderr=stderr)
    return Run(status, stdout.getvalue(), stderr.getvalue())


def logged_in(server) -> Run:
    run = cli(server, *LOGIN)
    assert run.status == 0, run.stderr
    return run


def json_documents(text: str) -> list:
    """Split output that contains several JSON documents one after the other."""
    decoder = json.JSONDecoder()
    documents, position = [], 0
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        document, position = decoder.raw_decode(text, position)
        documents.append(document)
    return documents


def process_env(home: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("AIOS_CLI_") and key not in ("LC_ALL", "LC_MESSAGES")}
    env.update({"LANG": "en_US.UTF-8", "XDG_STATE_HOME": str(home / "state"),
                "XDG_CONFIG_HOME": str(home / "config"), **extra})
    return env


# -- parsing ----------------------------------------------------------------------

PARSE_CASES = [
    (RECORD, ApiCall(RECORD)),
    (f"{RECORD} modelUuid=abc createDate>2025-01-01 limit=10 sortBy=createDate "
     "sortDirection=desc count=true replyWithCount=true fields=uuid,createDate",
     ApiCall(RECORD, params=[("q", "modelUuid=abc"), ("q", "createDate>2025-01-01"),
                             ("limit", 10), ("count", True), ("replyWithCount", True),
                             ("sort", "-createDate"), ("fields", "uuid,createDate")])),
    (f"{RECORD} uuid!=a", ApiCall(RECORD, params=[("q", "uuid!=a")])),
    (f"{RECORD} createDate>=2025-01-01", ApiCall(RECORD, params=[("q", "createDate>=2025-01-01")])),
    (f"{RECORD} createDate<2025-01-01", ApiCall(RECORD, params=[("q", "createDate<2025-01-01")])),
    (f"{RECORD} createDate<=2025-01-01", ApiCall(RECORD, params=[("q", "createDate<=2025-01-01")])),
    (f"{RECORD} uuid?=a,b", ApiCall(RECORD, params=[("q", "uuid?=a,b")])),
    (f"{RECORD} uuid!?=a,b", ApiCall(RECORD, params=[("q", "uuid!?=a,b")])),
    (f"{RECORD} uuid~=d374%", ApiCall(RECORD, params=[("q", "uuid~=d374%")])),
    (f"{RECORD} uuid!~=d374%", ApiCall(RECORD, params=[("q", "uuid!~=d374%")])),
    (f"{RECORD} sourceModelUuid is null",
     ApiCall(RECORD, params=[("q", "sourceModelUuid is null")])),
    (f"{RECORD} datasetUuid not null limit=1",
     ApiCall(RECORD, params=[("q", "datasetUuid not null"), ("limit", 1)])),
    (f'{RECORD} "datasetUuid is null"', ApiCall(RECORD, params=[("q", "datasetUuid is null")])),
    (f"{RECORD} datasetUuid=null", ApiCall(RECORD, params=[("q", "datasetUuid=null")])),
    (f"{RECORD} model.name=Qwen", ApiCall(RECORD, params=[("q", "model.name=Qwen")])),
    (f"{RECORD} model.modelCenter.name=mc",
     ApiCall(RECORD, params=[("q", "model.modelCenter.name=mc")])),
    (f"{RECORD} __userTag__=gold", ApiCall(RECORD, params=[("q", "__userTag__=gold")])),
    ('QueryModel name="my model"', ApiCall("QueryModel", params=[("q", "name=my model")])),
    ("QueryModel name='say \"hi\"'", ApiCall("QueryModel", params=[("q", 'name=say "hi"')])),
    ('QueryModel "name=a \\"b\\" \\\\"', ApiCall("QueryModel", params=[("q", 'name=a "b" \\')])),
    ("QueryModel name~=50\\%", ApiCall("QueryModel", params=[("q", "name~=50\\%")])),
    ("QueryModel name=", ApiCall("QueryModel", params=[("q", "name=")])),
    ("QueryModel name=模型", ApiCall("QueryModel", params=[("q", "name=模型")])),
    ("  QueryModel \t name=x   limit=2  ",
     ApiCall("QueryModel", params=[("q", "name=x"), ("limit", 2)])),
    (f"{RECORD} sortBy=createDate", ApiCall(RECORD, params=[("sort", "+createDate")])),
    (f"{RECORD} sortBy=createDate sortDirection=DESC",
     ApiCall(RECORD, params=[("sort", "-createDate")])),
    (f"{RECORD} count=false replyWithCount=TRUE",
     ApiCall(RECORD, params=[("replyWithCount", True)])),
    (f"{RECORD} limit=0 start=+5", ApiCall(RECORD, params=[("limit", 0), ("start", 5)])),
    (f"{RECORD} sessionId=abc", ApiCall(RECORD, session_id="abc")),
    ("CreateTrainedModelRecord modelUuid=m modelServiceInstanceGroupUuid=g userTags=a,b "
     "systemTags=x",
     ApiCall("CreateTrainedModelRecord",
             body={"params": {"modelUuid": "m", "modelServiceInstanceGroupUuid": "g"},
                   "systemTags": ["x"], "userTags": ["a", "b"]})),
    ("CreateTrainedModelRecord modelUuid=m userTags=",
     ApiCall("CreateTrainedModelRecord", body={"params": {"modelUuid": "m"}, "userTags": []})),
    ("AddModel name=x modelCenterUuid=c size=1024 minGpuMemory=-1",
     ApiCall("AddModel", body={"param": {"name": "x", "modelCenterUuid": "c", "size": 1024,
                                         "minGpuMemory": -1}})),
    ("CreateDataset name=d modelCenterUuid=c system=TRUE",
     ApiCall("CreateDataset", body={"params": {"name": "d", "modelCenterUuid": "c",
                                               "system": True}})),
    ("UpdateModel uuid=u name=n description=",
     ApiCall("UpdateModel", path_params={"uuid": "u"},
             body={"updateModel": {"name": "n", "description": ""}})),
    ("DeleteModel uuid=u", ApiCall("DeleteModel", path_params={"uuid": "u"})),
    ("DeleteModel uuid=u deleteMode=Enforcing",
     ApiCall("DeleteModel", path_params={"uuid": "u"}, params=[("deleteMode", "Enforcing")])),
    ("LogInByAccount accountName=admin password=password",
     ApiCall("LogInByAccount", body={"logInByAccount": {"accountName": "admin",
                                                        "password": sha512("password")}})),
    ("LogOut", ApiCall("LogOut")),
    ("LogOut sessionUuid=s", ApiCall("LogOut", path_params={"sessionUuid": "s"})),
    ("ValidateSession", ApiCall("ValidateSession")),
    ("ShareResource resourceUuids=a,b toPublic=true",
     ApiCall("ShareResource", body={"shareResource": {"resourceUuids": ["a", "b"],
                                                      "toPublic": True}})),
    ("CreateUserTag resourceType=ModelVO resourceUuid=u tag=a=b",
     ApiCall("CreateUserTag", body={"params": {"resourceType": "ModelVO", "resourceUuid": "u",
                                               "tag": "a=b"}})),
    ("CreateAccount name=team-a password=secret sessionId=s",
     ApiCall("CreateAccount", body={"params": {"name": "team-a", "password": sha512("secret")}},
             session_id="s")),
]


@pytest.mark.parametrize(("line", "expected"), PARSE_CASES, ids=[c[0][:60] for c in PARSE_CASES])
def test_parse_line_to_sdk_call(line, expected):
    assert parse_call(line) == expected


USAGE_CASES = [
    (f"{RECORD} foo", "no_operator"),
    (f"{RECORD} foo is", "no_operator"),
    (f"{RECORD} =x", "no_field"),
    (f"{RECORD} name=a>=b", "operator_in_value"),
    (f"{RECORD} limit=ten", "not_integer"),
    (f"{RECORD} limit=", "not_integer"),
    (f"{RECORD} start=1.5", "not_integer"),
    (f"{RECORD} count=yes", "not_boolean"),
    (f"{RECORD} sortDirection=desc", "direction_without_sort"),
    (f"{RECORD} sortBy=uuid sortDirection=up", "bad_direction"),
    (f"{RECORD} sortBy=-createDate", "bad_sort_by"),
    (f"{RECORD} limit=1 limit=2", "duplicate_parameter"),
    ("DeleteModel", "missing_parameter"),
    ("DeleteModel uuid=", "missing_parameter"),
    ("DeleteModel uuid", "not_a_parameter"),
    ("AddModel =x", "not_a_parameter"),
    ("AddModel colour=red", "unknown_parameter"),
    ("AddModel uuid=x", "unknown_parameter"),
    ("AddModel name=a name=b", "duplicate_parameter"),
    ("AddModel size=big", "not_integer"),
    ("CreateDataset system=maybe", "not_boolean"),
    ("LogInByAccount sessionId=x", "unknown_parameter"),
    ("queryModel", "unknown_command_case"),
    ("QueryModels", "unknown_command_hint"),
    ("Frobnicate", "unknown_command"),
    ('QueryModel name="x', "unterminated_quote"),
    ("QueryModel name='x", "unterminated_quote"),
]


@pytest.mark.parametrize(("line", "key"), USAGE_CASES, ids=[c[0] for c in USAGE_CASES])
def test_parse_line_usage_error(line, key):
    with pytest.raises(UsageError) as raised:
        parse_line(line)

    assert raised.value.key == key


def test_split_words_backslash_rules():
    words = [word.text for word in split_words(r"""a\_b "c\"d\\e\f" 'g\h' i""")]

    assert words == [r"a\_b", 'c"d\\e\\f', r"g\h", "i"]


def test_parse_blank_and_comment_lines():
    assert parse_line("   ") is None
    assert parse_line("# QueryModel") is None


# -- exit codes -------------------------------------------------------------------


def test_query_exit_zero(server, home):
    logged_in(server)

    run = cli(server, RECORD, "limit=1", "replyWithCount=true")

    assert run.status == 0, run.stderr
    assert run.json()["total"] == RECORDS
    assert len(run.json()["inventories"]) == 1
    assert run.json()["success"] is True
    assert "schema" not in run.json()


def test_output_is_indented_by_four(server, home):
    logged_in(server)

    run = cli(server, RECORD, f"uuid={EXAMPLE_UUID}")

    assert run.stdout.startswith('{\n    "inventories": [\n        {\n            "uuid"')


def test_api_error_exit_one(server, home):
    logged_in(server)

    run = cli(server, RECORD, "colour=red")

    assert run.status == 1
    assert run.stdout == ""
    assert run.error()["code"] == "SYS.1007"
    assert "not having field[colour]" in run.error()["details"]
    assert json.loads(run.stderr)["success"] is False


def test_plain_text_error_exit_one(server, home):
    logged_in(server)

    run = cli(server, RECORD, "limit=99999999999")

    assert run.status == 1
    assert run.error()["code"] == "HTTP.400"
    assert "'limit' must be an integer" in run.error()["details"]


def test_usage_error_exit_two(server, home):
    run = cli(server, "QueryTrainedModelRecords")

    assert run.status == 2
    assert run.stderr.strip() == ("Unknown command 'QueryTrainedModelRecords'. "
                                  "Did you mean 'QueryTrainedModelRecord'?")


def test_unknown_option_exit_two(server, home):
    run = cli(server, RECORD, options=("--colour", "red"))

    assert run.status == 2
    assert "Unknown option --colour" in run.stderr


def test_option_without_value_exit_two(home):
    status = main(["--port"], stdin=io.StringIO(), stdout=io.StringIO(), stderr=io.StringIO())

    assert status == 2


def test_unreachable_server_exit_one(server, home):
    logged_in(server)
    port = free_port()
    SessionStore(session_file(home)).save(f"http://127.0.0.1:{port}/zstack",
                                          SavedSession("0" * 32, "admin"))

    run = cli(server, RECORD, options=("--port", str(port)))

    assert run.status == 1
    assert run.stderr.startswith(f"Cannot reach the server at 127.0.0.1:{port}: ")
    assert "Connection refused" in run.stderr


def test_unreachable_without_session(server, home):
    port = free_port()

    run = cli(server, RECORD, options=("--port", str(port)))

    assert run.status == 1
    assert run.stderr.strip() == (
        f"Cannot reach the server at 127.0.0.1:{port}: Connection refused. Check that the "
        "server is running and that --host and --port point at it.")
    assert "Not logged in" not in run.stderr


@pytest.mark.parametrize(("words", "expected"), [
    ((RECORD, "--output", "compact"),
     f"'--output' is an aios-cli option, and options go before the API name, as in: "
     f"aios-cli --output compact {RECORD}. In the interactive shell"),
    (("QueryDataset", "name=x", "--port=8081"),
     "'--port' is an aios-cli option, and options go before the API name, as in: "
     "aios-cli --port=8081 QueryDataset"),
    (("AddModel", "name=x", "--timeout", "5"),
     "'--timeout' is an aios-cli option, and options go before the API name, as in: "
     "aios-cli --timeout 5 AddModel"),
    (("AddModel", "--help"),
     "'--help' is an aios-cli option, not a parameter of AddModel. To list the parameters "
     "of AddModel, run: aios-cli help AddModel"),
])
def test_option_after_api_name(server, home, words, expected):
    run = cli(server, *words)

    assert run.status == 2
    assert run.stderr.startswith(expected), run.stderr
    assert run.stdout == ""


def test_state_directory_under_file(server, home, monkeypatch):
    blocker = home / "afile"
    blocker.write_text("")
    state = blocker / "x"
    monkeypatch.setenv("XDG_STATE_HOME", str(state))

    for words in ((RECORD, "count=true"), LOGIN):
        run = cli(server, *words)
        assert run.status == 1, run.stderr
        assert run.stderr.strip() == (
            f"Cannot use the state directory {state / 'aios-cli'} for the saved session and "
            "history: Not a directory. Make it a directory you can write, or set "
            "XDG_STATE_HOME to one.")

    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    run = cli(server, RECORD)
    assert run.status == 1
    assert run.stderr.startswith(f"无法使用状态目录 {state / 'aios-cli'} 保存会话和历史记录")


def test_state_directory_error_in_a_process(server, home):
    blocker = home / "afile"
    blocker.write_text("")
    result = subprocess.run(
        [sys.executable, "-m", "aios_records.cli", "--port", str(server.port), *LOGIN],
        capture_output=True, text=True, timeout=60,
        env=process_env(home, XDG_STATE_HOME=str(blocker / "x")))

    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert f"Cannot use the state directory {blocker / 'x' / 'aios-cli'}" in result.stderr


def test_console_script_exit_codes(server, home):
    script = Path(sys.executable).parent / "aios-cli"
    assert script.exists(), "pip install -e . installs the aios-cli console script"
    env = process_env(home)
    base = [str(script), "--port", str(server.port)]

    login = subprocess.run([*base, *LOGIN], capture_output=True, text=True, env=env, timeout=60)
    query = subprocess.run([*base, RECORD, "count=true"], capture_output=True, text=True,
                           env=env, timeout=60)
    failed = subprocess.run([*base, RECORD, "colour=red"], capture_output=True, text=True,
                            env=env, timeout=60)
    usage = subprocess.run([*base, "Frobnicate"], capture_output=True, text=True, env=env,
                           timeout=60)

    assert login.returncode == 0, login.stderr
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout) == {"total": RECORDS, "success": True}
    assert failed.returncode == 1
    assert usage.returncode == 2


def test_piped_commands(server, home):
    script = "\n".join([
        " ".join(LOGIN),
        "# a comment, then a blank line",
        "",
        f"{RECORD} count=true",
        "QueryModel name=Qwen2.5-7B-Instruct fields=name",
        "LogOut",
    ])
    result = subprocess.run([sys.executable, "-m", "aios_records.cli", "--port",
                             str(server.port)], input=script, capture_output=True, text=True,
                            env=process_env(home), timeout=60)

    assert result.returncode == 0, result.stderr
    login, count, model, logout = json_documents(result.stdout)
    assert login["inventory"]["accountUuid"] == "36c27e8ff05c4780bf6d2fa65700f22e"
    assert count == {"total": RECORDS, "success": True}
    assert model == {"inventories": [{"name": "Qwen2.5-7B-Instruct"}], "success": True}
    assert logout == {"success": True}
    assert not session_file(home).exists()


def test_piped_commands_worst_status(server, home):
    logged_in(server)

    run = cli(server, stdin=f"{RECORD} colour=red\n{RECORD} count=true\n")
    worse = cli(server, stdin=f"Frobnicate\n{RECORD} colour=red\n")

    assert run.status == 1
    assert json.loads(run.stdout) == {"total": RECORDS, "success": True}
    assert worse.status == 2


def test_piped_exit_stops_reading(server, home):
    logged_in(server)

    run = cli(server, stdin=f"exit\n{RECORD} colour=red\n")

    assert run.status == 0
    assert run.stderr == ""


# -- sessions ---------------------------------------------------------------------


def test_session_file_mode_0600(server, home):
    old_umask = os.umask(0)
    try:
        logged_in(server)
    finally:
        os.umask(old_umask)

    path = session_file(home)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_session_file_contents(server, home):
    uuid = logged_in(server).json()["inventory"]["uuid"]

    saved = json.loads(session_file(home).read_text())

    assert saved == {"sessions": {f"http://127.0.0.1:{server.port}/zstack": {
        "uuid": uuid, "accountName": "admin"}}}
    assert "password" not in session_file(home).read_text()


def test_session_reused_across_runs(server, home):
    uuid = logged_in(server).json()["inventory"]["uuid"]

    first = cli(server, RECORD, "count=true")
    second = subprocess.run([sys.executable, "-m", "aios_records.cli", "--port", str(server.port),
                             "ValidateSession"], capture_output=True, text=True,
                            env=process_env(home), timeout=60)

    assert first.status == 0, first.stderr
    assert second.returncode == 0, second.stderr
    assert json.loads(second.stdout) == {"valid": True, "success": True}
    assert server.get(f"/v1/accounts/sessions/{uuid}/valid").json() == {"valid": True}


def test_session_kept_per_server(server, home):
    logged_in(server)

    # Another context path is another server URL, on a port that is listening.
    run = cli(server, RECORD, options=("--context-path", "/other"))

    assert run.status == 1
    assert "Not logged in" in run.stderr


def test_not_logged_in(server, home):
    run = cli(server, RECORD)

    assert run.status == 1
    assert run.stderr.strip() == ("Not logged in to this server. Log in first: "
                                  "LogInByAccount accountName=NAME password=PASSWORD")


def test_logout_clears_session(server, home):
    uuid = logged_in(server).json()["inventory"]["uuid"]

    logout = cli(server, "LogOut")
    after = cli(server, RECORD)

    assert logout.status == 0, logout.stderr
    assert logout.json() == {"success": True}
    assert not session_file(home).exists()
    assert after.status == 1
    assert server.get(f"/v1/accounts/sessions/{uuid}/valid").json() == {"valid": False}


def test_logout_keeps_other_servers(server, home):
    other = f"http://127.0.0.1:{free_port()}/zstack"
    SessionStore(session_file(home)).save(other, SavedSession("1" * 32, "team-a"))
    logged_in(server)

    cli(server, "LogOut")

    assert SessionStore(session_file(home)).load(other) == SavedSession("1" * 32, "team-a")


def test_wrong_password_saves_nothing(server, home):
    run = cli(server, "LogInByAccount", "accountName=admin", "password=wrong")

    assert run.status == 1
    assert run.error()["code"] == "ID.1000"
    assert not session_file(home).exists()


def test_unknown_session_cleared(server, home):
    store = SessionStore(session_file(home))
    store.save(f"http://127.0.0.1:{server.port}/zstack", SavedSession("0" * 32, "admin"))

    run = cli(server, RECORD)

    assert run.status == 1
    assert run.error() == {"code": "ID.1001", "description": "The session is invalid, either "
                           "wrong session id or the session has been expired",
                           "details": "Session expired"}
    assert "The saved session is no longer valid and was removed" in run.stderr
    assert not session_file(home).exists()


def test_expired_session_cleared(make_server, home):
    short = make_server("--admin-password", "password", "--session-timeout", "1")
    logged_in(short)
    time.sleep(2.2)

    run = cli(short, RECORD)
    again = cli(short, RECORD)

    assert run.status == 1
    assert run.error()["details"] == "Session expired"
    assert not session_file(home).exists()
    assert "Not logged in" in again.stderr


def test_explicit_session_not_cleared(server, home):
    uuid = logged_in(server).json()["inventory"]["uuid"]

    run = cli(server, RECORD, "sessionId=" + "0" * 32)

    assert run.status == 1
    assert run.error()["code"] == "ID.1001"
    assert SessionStore(session_file(home)).load(
        f"http://127.0.0.1:{server.port}/zstack").uuid == uuid


# -- writes -----------------------------------------------------------------------


def test_write_commands_round_trip(server, home):
    logged_in(server)
    center = cli(server, "QueryModelCenter", "limit=1", "fields=uuid").json()
    center_uuid = center["inventories"][0]["uuid"]

    group = cli(server, "CreateModelServiceInstanceGroup", "name=cli group", "status=Stopped",
                "modelServiceType=FineTune", "type=Container")
    model = cli(server, "AddModel", "name=cli-model", f"modelCenterUuid={center_uuid}",
                "size=2048", "userTags=cli-a,cli-b")
    assert group.status == 0, group.stderr
    assert model.status == 0, model.stderr
    group_uuid = group.json()["inventory"]["uuid"]
    model_uuid = model.json()["inventory"]["uuid"]
    record = cli(server, "CreateTrainedModelRecord", f"modelUuid={model_uuid}",
                 f"modelServiceInstanceGroupUuid={group_uuid}")
    assert record.status == 0, record.stderr
    record_uuid = record.json()["inventory"]["uuid"]

    by_tag = cli(server, RECORD, "model.__userTag__=cli-b", "fields=uuid")
    by_name = cli(server, RECORD, "modelServiceInstanceGroup.name=cli group", "fields=uuid")
    deleted = cli(server, "DeleteTrainedModelRecord", f"uuid={record_uuid}")
    after = cli(server, RECORD, f"uuid={record_uuid}", "count=true")

    assert model.json()["inventory"]["size"] == 2048
    assert by_tag.json()["inventories"] == [{"uuid": record_uuid}]
    assert by_name.json()["inventories"] == [{"uuid": record_uuid}]
    assert deleted.json() == {"success": True}
    assert after.json()["total"] == 0
    assert cli(server, "DeleteModel", f"uuid={model_uuid}").status == 0


def test_write_validation_error(server, home):
    logged_in(server)

    run = cli(server, "CreateTrainedModelRecord", "modelUuid=" + "0" * 32)

    assert run.status == 1
    assert run.error()["code"] == "SYS.1007"
    assert "modelServiceInstanceGroupUuid" in run.error()["details"]


# -- output formats ---------------------------------------------------------------


def test_compact_output(server, home):
    logged_in(server)

    run = cli(server, RECORD, "count=true", options=("--output", "compact"))

    assert run.stdout == '{"total":50,"success":true}\n'


def test_table_output(server, home):
    logged_in(server)

    run = cli(server, RECORD, "limit=2", "sortBy=uuid", "replyWithCount=true",
              "fields=uuid,createDate", options=("--output", "table"))

    lines = run.stdout.splitlines()
    assert lines[0].split() == ["uuid", "createDate"]
    assert set(lines[1].replace(" ", "")) == {"-"}
    assert len(lines) == 5
    assert lines[4] == f"total: {RECORDS}"
    assert lines[2].split()[0] < lines[3].split()[0]


def test_table_output_of_one_inventory(server, home):
    run = cli(server, *LOGIN, options=("--output", "table"))

    lines = run.stdout.splitlines()
    assert lines[0].split() == ["field", "value"]
    assert lines[2].split() == ["uuid", json.loads(session_file(home).read_text())[
        "sessions"][f"http://127.0.0.1:{server.port}/zstack"]["uuid"]]


def test_table_output_empty(server, home):
    logged_in(server)

    run = cli(server, RECORD, "uuid=nothing", options=("--output", "table"))

    assert run.stdout == "(no inventories)\n"


def test_output_shell_command(server, home):
    logged_in(server)

    run = cli(server, stdin=f"output compact\n{RECORD} count=true\noutput\n")

    assert run.stdout.splitlines() == [
        "Output format set to compact.", '{"total":50,"success":true}',
        "Output format: compact (choices: json, compact, table)"]


def test_errors_stay_json_in_table_mode(server, home):
    logged_in(server)

    run = cli(server, RECORD, "colour=red", options=("--output", "table"))

    assert run.error()["code"] == "SYS.1007"


# -- settings ---------------------------------------------------------------------


def test_config_file_sets_server(server, home):
    config = home / "config" / "aios-cli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(f'port = {server.port}\noutput = "compact"\n')
    stdout, stderr = io.StringIO(), io.StringIO()

    status = main([*LOGIN], stdin=io.StringIO(), stdout=stdout, stderr=stderr)

    assert status == 0, stderr.getvalue()
    assert stdout.getvalue().startswith('{"inventory":{"uuid":')


def test_settings_precedence(home, monkeypatch):
    config = home / "config" / "aios-cli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('host = "file.example"\nport = 1000\ncontext_path = "/file"\n'
                      'output = "table"\ntimeout = 5\n')
    monkeypatch.setenv("AIOS_CLI_PORT", "2000")
    monkeypatch.setenv("AIOS_CLI_CONTEXT_PATH", "env/")

    from_file_and_env = load_config({})
    with_options = load_config({"port": "3000", "host": "::1"})

    assert from_file_and_env.base_url == "http://file.example:2000/env"
    assert from_file_and_env.output == "table"
    assert from_file_and_env.timeout == 5.0
    assert with_options.base_url == "http://[::1]:3000/env"


def test_config_path_from_environment(home, monkeypatch, tmp_path):
    other = tmp_path / "elsewhere.toml"
    other.write_text("port = 4000\n")
    monkeypatch.setenv("AIOS_CLI_CONFIG", str(other))

    assert load_config({}).port == 4000


@pytest.mark.parametrize(("content", "key"), [
    ("port = 0\n", "bad_port"),
    ('port = "x"\n', "bad_port"),
    ("timeout = -1\n", "bad_timeout"),
    ('timeout = "nan"\n', "bad_timeout"),
    ('output = "yaml"\n', "bad_output"),
    ('host = "evil.example/x?"\n', "bad_host"),
    ('context_path = "/zstack?x=1"\n', "bad_context_path"),
    ("host = 5\n", "bad_setting_type"),
    ('colour = "red"\n', "config_unknown_key"),
    ("port = \n", "config_unreadable"),
])
def test_bad_config_file(home, content, key):
    config = home / "config" / "aios-cli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(content)

    with pytest.raises(UsageError) as raised:
        load_config({})

    assert raised.value.key == key


def test_bad_config_exit_two(home):
    config = home / "config" / "aios-cli" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("port = 70000\n")
    stderr = io.StringIO()

    status = main(["QueryModel"], stdin=io.StringIO(), stdout=io.StringIO(), stderr=stderr)

    assert status == 2
    assert stderr.getvalue().startswith(f"{config}: the port must be an integer")


def test_bad_port_option_names_option(home):
    stderr = io.StringIO()

    status = main(["--port", "http", "QueryModel"], stdin=io.StringIO(), stdout=io.StringIO(),
                  stderr=stderr)

    assert status == 2
    assert stderr.getvalue().startswith("--port: the port must be")


# -- help and languages -----------------------------------------------------------


def test_help_lists_apis(server, home):
    run = cli(server, "help")

    assert run.status == 0
    assert "QueryTrainedModelRecord" in run.stdout
    assert "CreateTrainedModelRecord" in run.stdout
    assert "output [FORMAT]" in run.stdout


def test_help_of_query_api(server, home):
    run = cli(server, "help", RECORD)

    assert run.stdout.startswith(f"{RECORD}  (GET /v1/ai/trained-model/records)")
    assert "  modelUuid" in run.stdout
    assert "model                      -> Model (modelUuid = Model.uuid)" in run.stdout
    assert "__userTag__" in run.stdout


def test_help_of_write_api(server, home):
    run = cli(server, "help", "CreateModelServiceInstanceGroup")

    assert "* status" in run.stdout
    assert "Running" in run.stdout
    assert "userTags" in run.stdout


def test_help_of_unknown_api(server, home):
    run = cli(server, "help", "Frobnicate")

    assert run.status == 2


def test_cli_usage(home):
    stdout = io.StringIO()

    status = main(["--help"], stdin=io.StringIO(), stdout=stdout, stderr=io.StringIO())

    assert status == 0
    assert stdout.getvalue().startswith("Usage: aios-cli [OPTIONS] [API [ARGUMENTS...]]")
    assert str(home / "state" / "aios-cli" / "session") in stdout.getvalue()


def test_chinese_usage_error(server, home, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")

    run = cli(server, RECORD, "limit=ten")

    assert run.status == 2
    assert run.stderr.strip() == "limit 必须是整数，不能是 'ten'。"


def test_chinese_server_details(server, home, monkeypatch):
    logged_in(server)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")

    run = cli(server, RECORD, "colour=red")

    assert run.error()["description"] == "One or more API argument is invalid"
    assert run.error()["details"].startswith(
        "资源类[class org.zstack.ai.entity.TrainedModelRecordInventory]没有字段[colour]")


def test_chinese_help(server, home, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")

    general = cli(server, "help")
    api = cli(server, "help", "AddModel")

    assert "按 Tab 可补全" in general.stdout
    assert "参数（* 为必填）：" in api.stdout


def test_chinese_not_logged_in(server, home, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")

    run = cli(server, RECORD)

    assert run.stderr.startswith("尚未登录此服务器")


def test_lc_all_overrides_lang(server, home, monkeypatch):
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.setenv("LC_ALL", "en_US.UTF-8")

    run = cli(server, RECORD, "limit=ten")

    assert run.stderr.strip() == "limit must be an integer, not 'ten'."


def test_chinese_in_a_process(server, home):
    result = subprocess.run([sys.executable, "-m", "aios_records.cli", "--port",
                             str(server.port), "Frobnicate"], capture_output=True, text=True,
                            env=process_env(home, LANG="zh_CN.UTF-8"), timeout=60)

    assert result.returncode == 2
    assert result.stderr.strip() == "未知命令 'Frobnicate'。输入 help 查看所有 API 和 shell 命令。"


# -- the interactive shell --------------------------------------------------------


def wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("the shell did not reach the expected state in time")
        time.sleep(0.02)


def run_shell(server, typing) -> tuple[int, str, str]:
    """Run the shell on a pipe input while `typing(pipe, shell, stdout)` types into it."""
    stdout, stderr = io.StringIO(), io.StringIO()
    runner = Runner(load_config({"port": str(server.port)}), stdout=stdout, stderr=stderr)
    failures: list[BaseException] = []
    try:
        with create_pipe_input() as pipe:
            shell = Shell(runner, input=pipe, output=DummyOutput())

            def type_keys() -> None:
                try:
                    typing(pipe, shell, stdout)
                except BaseException as error:  # reported after the shell stops
                    failures.append(error)
                    pipe.send_text("\x04")

            typist = threading.Thread(target=type_keys)
            typist.start()
            status = shell.run()
            typist.join(timeout=30)
    finally:
        runner.close()
    if failures:
        raise failures[0]
    return status, stdout.getvalue(), stderr.getvalue()


def test_shell_types_and_completes(server, home):
    def typing(pipe, shell, stdout):
        pipe.send_text(" ".join(LOGIN) + "\r")
        wait_until(lambda: '"success": true' in stdout.getvalue())
        buffer = shell.prompt_session.default_buffer
        pipe.send_text("QueryTr\t")
        wait_until(lambda: buffer.text == "QueryTrainedModelRecord ")
        pipe.send_text("count=true\r")
        wait_until(lambda: stdout.getvalue().count('"success": true') == 2)
        pipe.send_text("exit\r")

    status, output, errors = run_shell(server, typing)

    assert status == 0
    login, count = json_documents(output)
    assert login["inventory"]["accountUuid"] == "36c27e8ff05c4780bf6d2fa65700f22e"
    assert count == {"total": RECORDS, "success": True}
    assert errors == ""
    history = (home / "state" / "aios-cli" / "history").read_text()
    assert "+QueryTrainedModelRecord count=true" in history
    assert "password" not in history
    assert stat.S_IMODE((home / "state" / "aios-cli" / "history").stat().st_mode) == 0o600


def test_shell_ctrl_c_and_ctrl_d(server, home):
    logged_in(server)

    def typing(pipe, shell, stdout):
        pipe.send_text(f"{RECORD} colour=red")
        wait_until(lambda: shell.prompt_session.default_buffer.text.endswith("red"))
        pipe.send_text("\x03")  # Ctrl-C drops the line unrun
        pipe.send_text("output compact\r")
        wait_until(lambda: "compact" in stdout.getvalue())
        pipe.send_text(f"{RECORD} count=true\r")
        wait_until(lambda: '"total"' in stdout.getvalue())
        pipe.send_text("\x04")  # Ctrl-D on an empty line leaves

    status, output, errors = run_shell(server, typing)

    assert status == 0
    assert output.splitlines() == ["Output format set to compact.",
                                   '{"total":50,"success":true}']
    assert errors == ""


def test_shell_asks_for_password(server, home):
    def typing(pipe, shell, stdout):
        pipe.send_text("LogInByAccount accountName=admin\r")
        pipe.send_text("password\r")
        wait_until(lambda: '"success": true' in stdout.getvalue())
        pipe.send_text("exit\r")

    status, output, errors = run_shell(server, typing)

    assert status == 0, errors
    assert json.loads(output)["inventory"]["accountUuid"] == "36c27e8ff05c4780bf6d2fa65700f22e"
    assert session_file(home).exists()
    assert "password" not in (home / "state" / "aios-cli" / "history").read_text()


def test_shell_prompt_shows_account(server, home):
    runner = Runner(load_config({"port": str(server.port)}), stdout=io.StringIO(),
                    stderr=io.StringIO())
    try:
        with create_pipe_input() as pipe:
            shell = Shell(runner, input=pipe, output=DummyOutput())
            before = shell.prompt_text()
            runner.run_line(" ".join(LOGIN))
            after = shell.prompt_text()
    finally:
        runner.close()

    assert before == ">>> "
    assert after == "admin >>> "
