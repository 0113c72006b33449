"""The `q` parameter of list queries: operators, value quirks, folding and syntax errors.

Runs one server over hand-built records and models (time zone Asia/Shanghai).
Each expected result is derived from the rows inserted below. A property test
compares random conditions with a pure-Python model of the contract.
"""

from __future__ import annotations

import re
import string
from operator import eq, ge, gt, le, lt, ne
from datetime import datetime, timedelta, timezone
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from conftest import ADMIN_PASSWORD, insert_rows
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from aios_records.query.language import MAX_CONDITIONS

RECORDS = "/v1/ai/trained-model/records"
MODELS = "/v1/ai/models"
RECORD_CLASS = "org.zstack.ai.entity.TrainedModelRecordInventory"
RECORD_FIELDS = ("uuid, modelUuid, sourceModelUuid, modelServiceInstanceGroupUuid, "
                 "datasetUuid, createDate, lastOpDate")
SHANGHAI = ZoneInfo("Asia/Shanghai")
OPERATOR_LIST = "[[!=, >=, <=, !?=, !~=, ~=, ?=, =, >, <, is null, not null]]"


def record_uuid(n: int) -> str:
    return f"7ec0{n:028x}"


def model_uuid(n: int) -> str:
    return f"30de{n:028x}"


# Trained models: lower and upper case, so folding applies to stored data too.
ABC1 = "abc00000000000000000000000000001"
ABC2 = "abc00000000000000000000000000002"
ABC3 = "ABC00000000000000000000000000003"
ABD4 = "abd00000000000000000000000000004"
XYZ5 = "xyz00000000000000000000000000005"
GROUP1 = "9a000000000000000000000000000001"
GROUP2 = "9a000000000000000000000000000002"
DATA1 = "da000000000000000000000000000001"
DATA2 = "da000000000000000000000000000002"

# (n, modelUuid, sourceModelUuid, group, datasetUuid, createDate in UTC).
# Record 4 has an empty datasetUuid, which is not NULL.
RECORD_TABLE = [
    (1, ABC1, None, GROUP1, DATA1, "2025-11-19 10:20:07"),
    (2, ABC2, ABC1, GROUP1, None, "2025-11-19 10:20:08"),
    (3, ABC3, ABC1, GROUP2, DATA2, "2025-11-19 11:00:00"),
    (4, ABD4, ABC3, GROUP2, "", "2025-11-20 02:00:00"),
    (5, XYZ5, None, GROUP1, DATA1, "2025-11-21 16:00:00"),
]
RECORD_ROWS = [
    {"uuid": record_uuid(n), "modelUuid": model, "sourceModelUuid": source,
     "modelServiceInstanceGroupUuid": group, "datasetUuid": dataset,
     "createDate": created, "lastOpDate": created}
    for n, model, source, group, dataset, created in RECORD_TABLE
]

# (n, name, description, vendor, size). Names carry the characters whose
# handling the contract fixes: accents, non-Latin letters, trailing spaces,
# LIKE wildcards, backslashes, quotes and `=`.
MODEL_TABLE = [
    (1, "Qwen2.5-7B-Instruct", None, "Alibaba", 15_231_233_024),
    (2, "qwen2.5-7b-instruct", "lower-case copy", "alibaba", 15_231_233_024),
    (3, "Émile", None, None, 0),
    (4, "émile", None, None, 1),
    (5, "ΣΊΓΜΑ", None, None, 2),
    (6, "σίγμα", None, None, 3),
    (7, "trail ", None, None, 10),
    (8, "trail", None, None, 100),
    (9, "50%_off", None, None, 1024),
    (10, "50xoff", None, None, 1025),
    (11, "50_off", None, None, 0),
    (12, "back\\slash", None, "Back\\Slash", 7),
    (13, "backslash", None, None, 7),
    (14, "ends\\", None, None, 8),
    (15, "it's", "null", None, 9),
    (16, "a=b", "NULL text", None, 11),
    (17, "模型", "", "零一", 12),
]
MODEL_ROWS = [
    {"uuid": model_uuid(n), "name": name, "description": description,
     "modelCenterUuid": "ce000000000000000000000000000001", "vendor": vendor, "size": size,
     "type": "LLM", "createDate": "2025-11-19 10:20:07", "lastOpDate": "2025-11-19 10:20:07"}
    for n, name, description, vendor, size in MODEL_TABLE
]


@pytest.fixture(scope="module")
def server(make_module_server):
    def prepare(url: str) -> None:
        insert_rows(url, "TrainedModelRecordVO", RECORD_ROWS)
        insert_rows(url, "ModelVO", MODEL_ROWS)

    started = make_module_server("--admin-password", ADMIN_PASSWORD, prepare=prepare)
    started.session = started.login_session()
    return started


def encode(condition: str) -> str:
    return quote(condition, safe="")


def query(server, path: str, raw_query: str):
    return server.get(f"{path}?{raw_query}")


def record_numbers(server, raw_query: str) -> list[int]:
    """Run a record query and return the record numbers it matched, in reply order."""
    reply = query(server, RECORDS, raw_query)
    assert reply.status == 200, reply.text
    by_uuid = {record_uuid(n): n for n, *_ in RECORD_TABLE}
    return [by_uuid[item["uuid"]] for item in reply.json()["inventories"]]


def model_numbers(server, raw_query: str) -> list[int]:
    """Run a model query and return the model numbers it matched, in reply order."""
    reply = query(server, MODELS, raw_query)
    assert reply.status == 200, reply.text
    by_uuid = {model_uuid(n): n for n, *_ in MODEL_TABLE}
    return [by_uuid[item["uuid"]] for item in reply.json()["inventories"]]


def error(reply) -> dict:
    assert reply.status == 503, reply.text
    return reply.json()["error"]


# -- every operator on string fields ----------------------------------------

@pytest.mark.parametrize(("condition", "expected"), [
    (f"modelUuid={ABC1}", [1]),
    (f"modelUuid!={ABC1}", [2, 3, 4, 5]),
    (f"modelUuid>{ABC2}", [3, 4, 5]),
    (f"modelUuid>={ABC2}", [2, 3, 4, 5]),
    (f"modelUuid<{ABC2}", [1]),
    (f"modelUuid<={ABC2.upper()}", [1, 2]),
    (f"modelUuid?={ABC1},{ABC3.lower()}", [1, 3]),
    (f"modelUuid!?={ABC1},{ABC3.lower()}", [2, 4, 5]),
    ("modelUuid~=abc%", [1, 2, 3]),
    ("modelUuid!~=abc%", [4, 5]),
    ("modelUuid~=a_c%", [1, 2, 3]),
    ("modelUuid~=%5", [5]),
    ("modelUuid~=abc", []),
    ("sourceModelUuid is null", [1, 5]),
    ("sourceModelUuid not null", [2, 3, 4]),
    ("sourceModelUuid is null and anything after it", [1, 5]),
    ("sourceModelUuid=null", [1, 5]),
    ("sourceModelUuid=NULL", [1, 5]),
    ("sourceModelUuid=nUlL", [1, 5]),
    ("sourceModelUuid!=null", [2, 3, 4]),
    ("sourceModelUuid!=NULL", [2, 3, 4]),
    ("sourceModelUuid!=Null", [2, 3, 4]),
])
def test_string_operator(server, condition, expected):
    assert record_numbers(server, "q=" + encode(condition)) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    (f"sourceModelUuid!={ABC1}", [4]),
    (f"sourceModelUuid!?={ABC1}", [4]),
    ("datasetUuid!~=%1", [3, 4]),
    (f"sourceModelUuid<{ABC3}", [2, 3]),
    (f"sourceModelUuid>{ABC1}", [4]),
])
def test_negation_skips_null(server, condition, expected):
    assert record_numbers(server, "q=" + encode(condition)) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("datasetUuid=", [4]),
    ("datasetUuid!=", [1, 3, 5]),
    ("datasetUuid is null", [2]),
    (f"datasetUuid?=,{DATA2}", [3, 4]),
    (f"datasetUuid?={DATA2},", [3, 4]),
    (f"datasetUuid!?={DATA2},", [1, 5]),
    ("datasetUuid~=", [4]),
])
def test_empty_value_is_empty_string(server, condition, expected):
    assert record_numbers(server, "q=" + encode(condition)) == expected


def test_text_null_needs_like(server):
    # `description=null` means IS NULL, so the text "null" is reached through LIKE.
    assert model_numbers(server, "q=description~=null") == [15]
    assert model_numbers(server, "q=description~=null%25") == [15, 16]
    assert model_numbers(server, "q=description=null") == [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                                                            13, 14]


# -- value quirks ------------------------------------------------------------

def test_repeated_operator_swallowed(server):
    assert record_numbers(server, f"q=modelUuid=={ABC1}") == [1]
    assert record_numbers(server, f"q=modelUuid!=!={ABC1}") == [2, 3, 4, 5]
    assert record_numbers(server, "q=modelUuid~=~=abc%25") == [1, 2, 3]


def test_value_keeps_later_equals(server):
    # The Python SDK sends `=` unencoded. The value is everything after the first one.
    assert model_numbers(server, "q=name=a=b") == [16]
    assert model_numbers(server, "q=name~=a=%25") == [16]
    assert record_numbers(server, "q=uuid=a=b") == []


def test_value_not_trimmed(server):
    assert record_numbers(server, "q=uuid=" + encode(record_uuid(1) + " ")) == []
    assert record_numbers(server, "q=uuid=" + encode(" " + record_uuid(1))) == []
    assert record_numbers(server, "q=uuid=" + encode(record_uuid(1))) == [1]


def test_field_trimmed(server):
    assert record_numbers(server, "q=" + encode(f"  uuid \t={record_uuid(1)}")) == [1]
    assert record_numbers(server, "q=" + encode(" sourceModelUuid  is null")) == [1, 5]


def test_raw_plus_is_space(server):
    assert model_numbers(server, "q=name=trail+") == [7]
    assert model_numbers(server, "q=name=trail%2B") == []


def test_percent_without_hex_literal(server):
    assert record_numbers(server, "q=modelUuid~=abc%") == [1, 2, 3]
    # `%_o` is no escape, so the value is the name itself.
    assert model_numbers(server, "q=name=50%_off") == [9]
    assert model_numbers(server, "q=name~=50%") == [9, 10, 11]


def test_percent_escape_decoded(server):
    assert model_numbers(server, "q=name=%C3%89mile") == [3]
    assert model_numbers(server, "q=name%3D%E6%A8%A1%E5%9E%8B") == [17]


@pytest.mark.parametrize("raw_query", [
    "q=name=%FF",
    "q=name=%C3%28",
    "q=name=%ED%A0%80",
    "%FF=1",
    "limit=%FE",
])
def test_invalid_utf8_rejected(server, raw_query):
    reply = query(server, RECORDS, raw_query)
    assert reply.status == 400
    assert reply.text == "Invalid query parameter. The query string is not valid UTF-8"
    assert reply.headers["content-type"] == "text/plain;charset=utf-8"


def test_repeated_q_anded(server):
    assert record_numbers(server, "q=modelUuid~=abc%25&q=sourceModelUuid%20not%20null") == [2, 3]
    assert record_numbers(server, f"q=modelUuid={ABC1}&q=modelUuid={ABC2}") == []


def test_duplicate_q_collapses(server):
    # More identical conditions than the per-request limit still count as one.
    raw_query = "&".join(["q=modelUuid~=abc%25"] * (MAX_CONDITIONS + 1))
    assert record_numbers(server, raw_query) == [1, 2, 3]


def test_distinct_q_over_limit(server):
    raw_query = "&".join(f"q=modelUuid!=x{i}" for i in range(MAX_CONDITIONS + 1))
    reply = query(server, RECORDS, raw_query)
    assert reply.status == 400
    assert reply.text.startswith("Invalid query parameter. ")
    assert f"limit of {MAX_CONDITIONS}" in reply.text


@pytest.mark.parametrize(("raw_query", "expected"), [
    ("q=" + encode("name?=trail, Émile"), [8]),
    ("q=name?=trail%20,x", [7]),
    ("q=name?=trail,trail%20", [7, 8]),
    ("q=name!?=trail,%20trail", [1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15, 16, 17]),
    ("q=description?=,x", [17]),
    ("q=description?=,", [17]),
])
def test_in_items_untrimmed(server, raw_query, expected):
    assert model_numbers(server, raw_query) == expected


@pytest.mark.parametrize(("condition", "expected"), [
    ("name~=50\\%%", [9]),
    ("name~=50_off", [10, 11]),
    ("name~=50\\_off", [11]),
    ("name~=50%off", [9, 10, 11]),
    ("name~=50%\\_off", [9, 11]),
    ("name!~=50%off", [1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17]),
    ("name~=back\\\\slash", [12]),
    ("name~=back\\slash", [13]),
    ("name~=back_slash", [12]),
    ("name~=ends\\", [14]),
    ("name~=ends\\\\", [14]),
    ("name~=%\\", [14]),
    ("name~=%x\\", []),
    ("vendor~=BACK\\\\%", [12]),
])
def test_like_wildcards_and_escapes(server, condition, expected):
    assert model_numbers(server, "q=" + encode(condition)) == expected


def test_quote_and_backslash_values(server):
    assert model_numbers(server, "q=" + encode("name=it's")) == [15]
    assert model_numbers(server, "q=" + encode("name~=%'%")) == [15]
    assert model_numbers(server, "q=" + encode("name=back\\slash")) == [12]
    assert model_numbers(server, "q=" + encode("name?=it's,ends\\")) == [14, 15]
    assert model_numbers(server, "q=" + encode("name='; DROP TABLE ModelVO; --")) == []


# -- ASCII-only case folding -------------------------------------------------

def test_uuid_upper_case_matches(server):
    assert record_numbers(server, "q=uuid=" + record_uuid(1).upper()) == [1]
    assert record_numbers(server, f"q=modelUuid={ABC1.upper()}") == [1]
    assert record_numbers(server, f"q=modelUuid={ABC3.lower()}") == [3]
    assert record_numbers(server, f"q=modelUuid?={ABC1.upper()},{ABC2.upper()}") == [1, 2]


@pytest.mark.parametrize(("condition", "expected"), [
    ("name=QWEN2.5-7B-INSTRUCT", [1, 2]),
    ("name=qwen2.5-7b-instruct", [1, 2]),
    ("name~=QWEN%", [1, 2]),
    ("vendor=ALIBABA", [1, 2]),
    ("name=émile", [4]),
    ("name=Émile", [3]),
    ("name=ÉMILE", [3]),
    ("name=éMILE", [4]),
    ("name~=é%", [4]),
    ("name~=%MILE", [3, 4]),
    ("name=σίγμα", [6]),
    ("name=ΣΊΓΜΑ", [5]),
    ("name~=σ%", [6]),
    ("name=模型", [17]),
    ("name=trail", [8]),
    ("name=trail ", [7]),
    ("name=TRAIL ", [7]),
    ("name~=trail", [8]),
    ("name~=trail_", [7]),
])
def test_ascii_only_folding(server, condition, expected):
    assert model_numbers(server, "q=" + encode(condition)) == expected


def test_field_names_case_sensitive(server):
    body = error(query(server, RECORDS, f"q=UUID={record_uuid(1)}"))
    assert body["code"] == "SYS.1007"
    assert "field[UUID]" in body["details"]


# -- operator precedence and syntax errors -----------------------------------

def test_first_listed_operator_wins(server):
    # `!=` is tested before `~=`, so the field is everything before `!=`.
    reply = query(server, RECORDS, "q=uuid~=a!=b")
    assert reply.status == 503
    assert reply.body == (
        b'{"error":{"code":"SYS.1007","description":"One or more API argument is invalid",'
        b'"details":"inventory class[class ' + RECORD_CLASS.encode() + b'] not having '
        b'field[uuid~=a]; queryable fields are [' + RECORD_FIELDS.encode() + b']"}}'
    )


def test_like_before_equals(server):
    # `~=` is tested before `=`, so `name~=a=b` is LIKE 'a=b' and `name=a~=b` has field `name=a`.
    assert model_numbers(server, "q=name~=a=b") == [16]
    body = error(query(server, MODELS, "q=name=a~=b"))
    assert "field[name=a]" in body["details"]


def test_unknown_field_details(server):
    body = error(query(server, RECORDS, "q=foo=1"))
    assert body["code"] == "SYS.1007"
    assert body["description"] == "One or more API argument is invalid"
    assert body["details"].startswith(
        f"inventory class[class {RECORD_CLASS}] not having field[foo]")
    assert f"[{RECORD_FIELDS}]" in body["details"]


@pytest.mark.parametrize(("path", "inventory_class"), [
    (RECORDS, RECORD_CLASS),
    (MODELS, "org.zstack.ai.entity.ModelInventory"),
    ("/v1/ai/datasets", "org.zstack.ai.entity.DatasetInventory"),
    ("/v1/ai/model-services/instances/groups",
     "org.zstack.ai.entity.ModelServiceInstanceGroupInventory"),
    ("/v1/ai/model-centers", "org.zstack.ai.entity.ModelCenterInventory"),
])
def test_each_resource_checks_conditions(server, path, inventory_class):
    body = error(query(server, path, "q=foo=1"))
    assert body["details"].startswith(
        f"inventory class[class {inventory_class}] not having field[foo]")
    reply = query(server, path, "q=foo")
    assert reply.status == 400
    assert "doesn't contain any query operator" in reply.text


@pytest.mark.parametrize("condition", [
    "uuid",
    "",
    "sourceModelUuid isnull",
    "name IS NULL",
    "name: x",
])
def test_no_operator_text(server, condition):
    reply = query(server, RECORDS, "q=" + encode(condition))
    assert reply.status == 400
    assert reply.text == (
        f"Invalid query parameter. The '{condition}' in the parameter[q] doesn't contain any "
        f"query operator. Valid query operators are {OPERATOR_LIST}"
    )
    assert reply.headers["content-type"] == "text/plain;charset=utf-8"


@pytest.mark.parametrize(("condition", "internal"), [
    ("=x", "="),
    ("  =x", "="),
    ("!=x", "!="),
    (">x", ">"),
    (">=x", ">="),
    ("<x", "<"),
    ("<=x", "<="),
    ("?=x", "in"),
    ("!?=x", "not in"),
    ("~=x", "like"),
    ("!~=x", "not like"),
    ("is null", "is null"),
    (" not null", "is not null"),
    ("==x", "="),
])
def test_missing_field_text(server, condition, internal):
    reply = query(server, RECORDS, "q=" + encode(condition))
    assert reply.status == 400
    assert reply.text == (
        f"Invalid query parameter. The '{condition}' in parameter[q] is not a key-value "
        f"pair split by {internal}"
    )


def test_syntax_checked_before_session(server):
    reply = server.get(f"{RECORDS}?q=uuid", session="00000000000000000000000000000000")
    assert reply.status == 400
    assert "doesn't contain any query operator" in reply.text


def test_bad_session_with_valid_query(server):
    reply = server.get(f"{RECORDS}?q=uuid=x", session="00000000000000000000000000000000")
    assert error(reply)["code"] == "ID.1001"


def test_error_body_not_escaped(server):
    # Success bodies escape <>&=' as Gson does, but error bodies keep them.
    reply = query(server, RECORDS, "q=" + encode("a<b>'&=1"))
    body = error(reply)
    assert "field[a<b>'&]" in body["details"]
    assert b"field[a<b>'&]" in reply.body


# -- property test: random conditions against a model of the contract -------

ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
OPERATOR_ORDER = ("!=", ">=", "<=", "!?=", "!~=", "~=", "?=", "=", ">", "<", "is null",
                  "not null")
COMPARISONS = ("=", "!=", ">", ">=", "<", "<=")


def fold(text: str) -> str:
    return text.translate(ASCII_LOWER)


def like_regex(pattern: str) -> re.Pattern:
    """Translate a LIKE pattern with `\\` as escape into a regular expression.

    A trailing lone backslash matches a backslash, as on MySQL.
    """
    parts, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


COMPARE = {"=": eq, "!=": ne, ">": gt, ">=": ge, "<": lt, "<=": le}


def expected_match(value, kind: str, op: str, argument: str | None) -> bool:
    """Decide whether one stored value satisfies one condition, following the contract."""
    if op == "is null":
        return value is None
    if op == "not null":
        return value is not None
    if op in ("=", "!=") and argument.lower() == "null":
        return (value is None) == (op == "=")
    if value is None:
        return False

    if op in ("~=", "!~="):
        text = fold(str(value))
        matched = like_regex(fold(argument)).fullmatch(text) is not None
        return matched == (op == "~=")

    def typed(item: str):
        if kind == "text":
            return fold(item)
        if kind == "time":
            return datetime.strptime(item, "%Y-%m-%d %H:%M:%S").replace(tzinfo=SHANGHAI)
        return float(item) if "." in item else int(item)

    stored = fold(value) if kind == "text" else value
    if op in ("?=", "!?="):
        found = any(stored == typed(item) for item in argument.split(","))
        return found == (op == "?=")
    return COMPARE[op](stored, typed(argument))


def expected_rows(rows: list[dict], kinds: dict[str, str],
                  conditions: list[tuple[str, str, str | None]]) -> list[str]:
    """Return the uuids, in ascending order, of the rows matching every condition."""
    return sorted(
        row["uuid"] for row in rows
        if all(expected_match(row[field], kinds[field], op, argument)
               for field, op, argument in conditions)
    )


def condition_text(field: str, op: str, argument: str | None) -> str:
    return f"{field} {op}" if argument is None else f"{field}{op}{argument}"


def parses_as_written(field: str, op: str, argument: str | None) -> bool:
    """Check that the server will split the text at `op` and keep `argument` whole."""
    text = condition_text(field, op, argument)
    first = next(o for o in OPERATOR_ORDER if o in text)
    return first == op and (argument is None or not argument.startswith(op))


# Letters that fold and letters that must not, wildcards, the escape, a comma and a space.
VALUE_ALPHABET = "aAbBcC019éÉσΣ_%\\ ,'"


def value_variants(text: str) -> st.SearchStrategy[str]:
    return st.sampled_from([text, text.upper(), text.lower(), text.swapcase(), text[:-1],
                            text + " ", text[1:]])


@st.composite
def text_condition(draw, rows: list[dict], field: str) -> tuple[str, str, str | None]:
    stored = [row[field] for row in rows if row[field] is not None]
    plain = st.one_of(st.sampled_from(stored).flatmap(value_variants),
                      st.text(VALUE_ALPHABET, max_size=5))
    op = draw(st.sampled_from(COMPARISONS + ("?=", "!?=", "~=", "!~=", "is null", "not null",
                                             "=null", "!=null")))
    if op in ("is null", "not null"):
        return field, op, None
    if op in ("=null", "!=null"):
        return field, op[:-4], draw(st.sampled_from(["null", "NULL", "Null"]))
    if op in ("?=", "!?="):
        return field, op, ",".join(draw(st.lists(plain, min_size=1, max_size=3)))
    if op in ("~=", "!~="):
        prefix = draw(plain)
        pattern = draw(st.sampled_from([prefix, prefix + "%", "%" + prefix, "%" + prefix + "%",
                                        prefix[:2] + "_" + prefix[3:]]))
        return field, op, pattern
    return field, op, draw(plain)


@st.composite
def time_condition(draw, rows: list[dict], field: str) -> tuple[str, str, str | None]:
    stored = [row[field] for row in rows]
    instant = draw(st.sampled_from(stored)) + timedelta(seconds=draw(st.sampled_from([-1, 0, 1])))
    local = instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    op = draw(st.sampled_from(COMPARISONS + ("?=", "!?=", "not null", "=null")))
    if op == "not null":
        return field, op, None
    if op == "=null":
        return field, "=", "null"
    if op in ("?=", "!?="):
        other = draw(st.sampled_from(stored)).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        return field, op, f"{local},{other}"
    return field, op, local


@st.composite
def number_condition(draw, rows: list[dict], field: str) -> tuple[str, str, str | None]:
    stored = [row[field] for row in rows]
    number = draw(st.sampled_from(stored)) + draw(st.sampled_from([-1, 0, 1]))
    value = draw(st.sampled_from([str(number), f"{number - 0.5}", f"{number}.0"]))
    op = draw(st.sampled_from(COMPARISONS + ("?=", "!?=", "~=", "!~=", "is null")))
    if op == "is null":
        return field, op, None
    if op in ("?=", "!?="):
        return field, op, f"{value},{draw(st.sampled_from(stored))}"
    if op in ("~=", "!~="):
        return field, op, draw(st.sampled_from([str(number)[:1] + "%", "%" + str(number)[-1:],
                                                "_" + str(number)[1:]]))
    return field, op, value


def utc(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)


RECORD_KINDS = {"uuid": "text", "modelUuid": "text", "sourceModelUuid": "text",
                "modelServiceInstanceGroupUuid": "text", "datasetUuid": "text",
                "createDate": "time", "lastOpDate": "time"}
RECORD_MODEL_ROWS = [
    {**row, "createDate": utc(row["createDate"]), "lastOpDate": utc(row["lastOpDate"])}
    for row in RECORD_ROWS
]
MODEL_KINDS = {"uuid": "text", "name": "text", "description": "text", "vendor": "text",
               "size": "number"}


def conditions_for(rows: list[dict], kinds: dict[str, str]):
    builders = {"text": text_condition, "time": time_condition, "number": number_condition}
    one = st.sampled_from(sorted(kinds)).flatmap(lambda field: builders[kinds[field]](rows, field))
    return st.lists(one, min_size=1, max_size=2)


def check_against_model(server, path: str, rows: list[dict], kinds: dict[str, str],
                        conditions: list[tuple[str, str, str | None]]) -> None:
    assume(all(parses_as_written(*condition) for condition in conditions))
    raw_query = "&".join("q=" + encode(condition_text(*c)) for c in conditions)
    reply = query(server, path, raw_query + "&fields=uuid")
    assert reply.status == 200, (raw_query, reply.text)
    got = [item["uuid"] for item in reply.json()["inventories"]]
    event("no row matched" if not got else "every row matched" if len(got) == len(rows)
          else "some rows matched")
    assert got == expected_rows(rows, kinds, conditions), raw_query


@settings(max_examples=100, deadline=None)
@given(conditions=conditions_for(RECORD_MODEL_ROWS, RECORD_KINDS))
def test_records_match_model(server, conditions):
    check_against_model(server, RECORDS, RECORD_MODEL_ROWS, RECORD_KINDS, conditions)


@settings(max_examples=100, deadline=None)
@given(conditions=conditions_for(MODEL_ROWS, MODEL_KINDS))
def test_models_match_model(server, conditions):
    check_against_model(server, MODELS, MODEL_ROWS, MODEL_KINDS, conditions)
