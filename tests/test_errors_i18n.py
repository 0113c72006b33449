"""Error bodies and the locale of their `details`: server --locale and Accept-Language."""

from __future__ import annotations

import json
import re

import pytest
from conftest import ADMIN_PASSWORD, SESSION_EXPIRED_BODY, Server, sha512, without_session

from aios_records import i18n

RECORDS = "/v1/ai/trained-model/records"
LOGIN = "/v1/accounts/login"
UNKNOWN_SESSION = "OAuth 0123456789abcdef0123456789abcdef"
CJK = re.compile(r"[\u4e00-\u9fff]")
WRONG_CREDENTIALS_EN = "wrong account name or password"
INVALID_ARGUMENT = "One or more API argument is invalid"
UNABLE_TO_AUTHENTICATE = "Unable to authenticate a user"
MISSING_PASSWORD = b'{"logInByAccount":{"accountName":"admin"}}'
WRONG_PASSWORD = json.dumps({"logInByAccount": {"accountName": "admin",
                                                "password": sha512("wrong")}})


def error_of(reply) -> dict:
    assert reply.status == 503, reply.text
    body = reply.json()
    assert list(body) == ["error"]
    return body["error"]


def accept(language: str) -> dict[str, str]:
    return {"Accept-Language": language}


@pytest.fixture(scope="module")
def zh_server(make_module_server) -> Server:
    server = make_module_server("--admin-password", ADMIN_PASSWORD, "--locale", "zh_CN")
    server.session = server.login_session()
    return server


@pytest.fixture(scope="module")
def en_server(make_module_server) -> Server:
    server = make_module_server("--admin-password", ADMIN_PASSWORD)
    server.session = server.login_session()
    return server


# -- server locale zh_CN ------------------------------------------------------


def test_zh_wrong_credentials(zh_server):
    error = error_of(zh_server.login("admin", "wrong"))
    assert list(error) == ["code", "description", "details"]
    assert error["code"] == "ID.1000"
    assert error["description"] == UNABLE_TO_AUTHENTICATE
    assert error["details"] == i18n.render("wrong_credentials", "zh_CN")
    assert CJK.search(error["details"])
    assert error["details"] != WRONG_CREDENTIALS_EN


def test_zh_missing_body_field(zh_server):
    error = error_of(zh_server.request("PUT", LOGIN, body=MISSING_PASSWORD))
    assert error["code"] == "SYS.1007"
    assert error["description"] == INVALID_ARGUMENT
    assert "logInByAccount.password" in error["details"]
    assert CJK.search(error["details"])


def test_zh_wrong_body_type(zh_server):
    body = b'{"logInByAccount":{"accountName":7,"password":"00"}}'
    error = error_of(zh_server.request("PUT", LOGIN, body=body))
    assert error["code"] == "SYS.1007"
    assert error["description"] == INVALID_ARGUMENT
    assert "accountName" in error["details"]
    assert CJK.search(error["details"])


def test_zh_body_not_object(zh_server):
    error = error_of(zh_server.request("PUT", LOGIN, body=b"[]"))
    assert error["code"] == "SYS.1007"
    assert error["description"] == INVALID_ARGUMENT
    assert CJK.search(error["details"])


def test_zh_unknown_query_field(zh_server):
    error = error_of(zh_server.get(f"{RECORDS}?q=nosuchfield=1"))
    assert error["code"] == "SYS.1007"
    assert error["description"] == INVALID_ARGUMENT
    assert "nosuchfield" in error["details"]
    assert "org.zstack.ai.entity.TrainedModelRecordInventory" in error["details"]
    assert CJK.search(error["details"])


def test_zh_session_expired_untranslated(zh_server):
    reply = without_session(zh_server).get(RECORDS, headers={"Authorization": UNKNOWN_SESSION})
    assert reply.status == 503
    assert reply.body == SESSION_EXPIRED_BODY


# -- Accept-Language per request ----------------------------------------------


@pytest.mark.parametrize("language", ["en", "en-US", "en_US", "en-GB,en;q=0.9",
                                      "zh-CN;q=0.3, en;q=0.8"])
def test_zh_server_english_request(zh_server, language):
    reply = zh_server.request("PUT", LOGIN, headers=accept(language), body=WRONG_PASSWORD)
    error = error_of(reply)
    assert error["code"] == "ID.1000"
    assert error["description"] == UNABLE_TO_AUTHENTICATE
    assert error["details"] == WRONG_CREDENTIALS_EN


@pytest.mark.parametrize("language", ["zh-CN", "zh", "zh_CN", "zh-CN,zh;q=0.9,en;q=0.8",
                                      "en;q=0.2, zh-CN;q=0.7"])
def test_en_server_chinese_request(en_server, language):
    reply = en_server.request("PUT", LOGIN, headers=accept(language), body=WRONG_PASSWORD)
    error = error_of(reply)
    assert error["code"] == "ID.1000"
    assert error["description"] == UNABLE_TO_AUTHENTICATE
    assert error["details"] == i18n.render("wrong_credentials", "zh_CN")


@pytest.mark.parametrize("language", ["fr-FR", "de;q=0.9, ja;q=0.8", "", "zh-CN;q=0"])
def test_unsupported_language_uses_server_locale(zh_server, en_server, language):
    headers = accept(language)
    zh_error = error_of(zh_server.request("PUT", LOGIN, body=MISSING_PASSWORD, headers=headers))
    en_error = error_of(en_server.request("PUT", LOGIN, body=MISSING_PASSWORD, headers=headers))
    assert CJK.search(zh_error["details"])
    assert not CJK.search(en_error["details"])
    assert "logInByAccount.password" in en_error["details"]


def test_en_server_default_english(en_server):
    error = error_of(en_server.login("admin", "wrong"))
    assert error["details"] == WRONG_CREDENTIALS_EN


def test_query_error_follows_accept_language(en_server):
    chinese = error_of(en_server.get(f"{RECORDS}?sort=nosuchfield", headers=accept("zh-CN")))
    english = error_of(en_server.get(f"{RECORDS}?sort=nosuchfield"))
    assert chinese["code"] == english["code"] == "SYS.1007"
    assert chinese["description"] == english["description"] == INVALID_ARGUMENT
    assert CJK.search(chinese["details"])
    assert not CJK.search(english["details"])
    assert "nosuchfield" in chinese["details"]
    assert "nosuchfield" in english["details"]


def test_session_expired_chinese_request(en_server):
    headers = {"Authorization": UNKNOWN_SESSION, "Accept-Language": "zh-CN"}
    reply = without_session(en_server).get(RECORDS, headers=headers)
    assert reply.status == 503
    assert reply.body == SESSION_EXPIRED_BODY


# -- plain-text 400 and 404 bodies are never translated -----------------------


@pytest.mark.parametrize("path, headers, text", [
    (RECORDS, {}, "missing header 'Authorization'"),
    (RECORDS, {"Authorization": "Bearer x"}, "Authorization type must be 'OAuth'"),
    (f"{RECORDS}?limit=x", None, "Invalid query parameter. 'limit' must be an integer"),
    (f"{RECORDS}?start=", None, "Invalid query parameter. 'start' must be an integer"),
    (f"{RECORDS}?fields=,", None, "Invalid query parameter. 'fields' contains zero field"),
    (f"{RECORDS}?q==x", None,
     "Invalid query parameter. The '=x' in parameter[q] is not a key-value pair split by ="),
    ("/v1/ai/nothing", None, "no api mapping to /v1/ai/nothing"),
])
def test_plain_text_untranslated(zh_server, path, headers, text):
    for language in ("zh-CN", None):
        sent = dict(headers) if headers is not None else {}
        if language:
            sent["Accept-Language"] = language
        server = without_session(zh_server) if headers is not None else zh_server
        reply = server.get(path, headers=sent)
        assert reply.status in (400, 404)
        assert reply.headers["content-type"].startswith("text/plain")
        assert reply.text == text


def test_body_limit_untranslated(zh_server):
    reply = zh_server.request("PUT", LOGIN, body=b" " * (2 * 1024 * 1024),
                              headers=accept("zh-CN"))
    assert reply.status == 400
    assert not CJK.search(reply.text)
    assert "limit" in reply.text


# -- error body encoding ------------------------------------------------------


def test_error_body_not_html_escaped(en_server):
    # `a<b>=1` splits at `>=`, so the unknown field is `a<b`.
    reply = en_server.get(f"{RECORDS}?q=a%3Cb%3E%3D1")
    error = error_of(reply)
    assert error["code"] == "SYS.1007"
    assert "field[a<b]" in error["details"]
    assert b"a<b" in reply.body
    assert b"\\u003c" not in reply.body


def test_error_body_compact(en_server):
    reply = en_server.login("admin", "wrong")
    assert reply.body == json.dumps(reply.json(), separators=(",", ":"),
                                    ensure_ascii=False).encode()
