"""Bad input gets 422 with per-field Chinese messages and stable codes; nothing a client sends is a 500."""
from __future__ import annotations

from typing import Any, Dict, List

import pytest

from tests.issue_api.conftest import Api, ticket_body


def _fields(response) -> Dict[str, str]:  # type: ignore[no-untyped-def]
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed" and error["message"]
    return {item["field"]: item["code"] for item in error["fields"]}


def _messages(response) -> List[str]:  # type: ignore[no-untyped-def]
    return [item["message"] for item in response.json()["error"]["fields"]]


def test_missing_required_fields_are_each_reported(api: Api) -> None:
    response = api.call("POST", "/tickets", role="bot", json={})
    assert _fields(response) == {name: "field_required" for name in
                                 ("company", "contact_name", "phone", "category", "description")}
    assert all(message == "此项为必填项" for message in _messages(response))


@pytest.mark.parametrize("phone", ["12345", "1381234567", "23812345678", "138123456789", "电话号码", "029-123", "+1 650 555 1234"])
def test_phone_must_be_a_mainland_mobile_or_landline(api: Api, phone: str) -> None:
    response = api.call("POST", "/tickets", role="bot", json=ticket_body(phone=phone))
    assert _fields(response) == {"phone": "phone_invalid"}
    assert _messages(response) == ["请填写正确的手机号或固定电话"]


@pytest.mark.parametrize("phone", ["13812345678", "+8613812345678", "0086 138 1234 5678", "029-88881234", "(029)8888-1234", "0917-1234567", "010 12345678"])
def test_valid_phone_spellings_are_accepted(api: Api, phone: str) -> None:
    assert api.call("POST", "/tickets", role="bot", json=ticket_body(phone=phone)).status_code == 201


def test_description_not_blank_and_bounded(api: Api) -> None:
    assert _fields(api.call("POST", "/tickets", role="bot", json=ticket_body(description="   "))) == {
        "description": "description_empty"}
    response = api.call("POST", "/tickets", role="bot", json=ticket_body(description="很" * 2001))
    assert _fields(response) == {"description": "description_too_long"}
    assert "2000" in _messages(response)[0]


def test_category_kind_and_channel_come_from_the_lists(api: Api) -> None:
    response = api.call("POST", "/tickets", role="bot", json=ticket_body(category="水电", kind="angry", channel="fax"))
    assert _fields(response) == {"category": "category_invalid", "kind": "kind_invalid", "channel": "channel_invalid"}
    assert "供水供电供气" in _messages(response)[0]


@pytest.mark.parametrize("field,value", [
    ("company", 12345), ("company", ["a"]), ("phone", 13812345678), ("description", {"x": 1}),
    ("contact_name", True), ("company", None),
])
def test_wrong_json_types(api: Api, field: str, value: Any) -> None:
    body = ticket_body()
    body[field] = value
    codes = _fields(api.call("POST", "/tickets", role="bot", json=body))
    assert field in codes
    assert codes[field] in ("type_invalid", "field_required", "phone_invalid")


@pytest.mark.parametrize("junk", ["\u0000", "a\u0007b", "\ud800", "\udfff x"])
def test_control_characters_and_lone_surrogates(api: Api, junk: str) -> None:
    raw = ('{"company": "c", "contact_name": "n", "phone": "13812345678", "category": "其他", '
           '"description": %s}' % __import__("json").dumps(junk))
    response = api.call("POST", "/tickets", role="bot", data=raw.encode("utf-8"),
                        headers={"Content-Type": "application/json"})
    assert _fields(response) == {"description": "text_invalid_chars"}


def test_invisible_bidi_formatting_is_dropped_so_the_next_reader_sees_what_was_written(api: Api) -> None:
    ticket = api.file(description="路灯坏了\u202e，已修好\u202c\u200b")
    assert api.get(ticket["id"])["description"] == "路灯坏了，已修好"


def test_a_text_of_nothing_but_invisible_formatting_is_empty(api: Api) -> None:
    body = ticket_body()
    body["description"] = "\u202e\u200b "
    assert _fields(api.call("POST", "/tickets", role="bot", json=body)) == {"description": "description_empty"}  # as a blank one


def test_emoji_and_rare_characters_are_fine(api: Api) -> None:
    ticket = api.file(description="路灯坏了😡 𠮷野家门口", company="𠀀公司")
    assert api.get(ticket["id"])["description"] == "路灯坏了😡 𠮷野家门口"


@pytest.mark.parametrize("raw", [b"{not json", b"", b"[1, 2]", b"null", b"\xff\xfe\x00", b'{"company": "a"'])
def test_malformed_bodies(api: Api, raw: bytes) -> None:
    response = api.call("POST", "/tickets", role="bot", data=raw, headers={"Content-Type": "application/json"})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["fields"][0]["field"] == "body"


@pytest.mark.parametrize("score", [0, 6, -1, 10**40, 2.5, "5", True, None])
def test_rating_score_is_an_integer_from_1_to_5(api: Api, score: Any) -> None:
    ticket = api.file()
    response = api.call("POST", f"/tickets/{ticket['id']}/rating", role="bot", json={"score": score})
    codes = _fields(response)
    assert codes == {"score": "score_invalid"} or codes == {"score": "field_required"}


def test_action_bodies_are_checked(api: Api) -> None:
    ticket = api.file()
    assert _fields(api.call("POST", f"/tickets/{ticket['id']}/supplements", role="bot", json={"text": ""})) == {
        "text": "text_blank"}
    assert _fields(api.call("POST", f"/tickets/{ticket['id']}/cancel", role="bot", json={})) == {
        "reason": "field_required"}
    assert _fields(api.call("POST", f"/tickets/{ticket['id']}/assign", json={"department": 7})) == {
        "department": "type_invalid"}


def test_query_parameters_are_checked(api: Api) -> None:
    assert _fields(api.call("GET", "/tickets", params={"phone": "123"})) == {"phone": "phone_invalid"}
    assert _fields(api.call("GET", "/tickets", params={"status": "lost"})) == {"status": "status_invalid"}
    assert _fields(api.call("GET", "/tickets", params={"limit": "999999999999999999999999"})) == {"limit": "out_of_range"}
    assert _fields(api.call("GET", "/tickets", params={"limit": "many"})) == {"limit": "type_invalid"}


def test_bad_idempotency_key_header(api: Api) -> None:
    response = api.call("POST", "/tickets", role="bot", json=ticket_body(), headers={"Idempotency-Key": "x" * 201})
    assert "Idempotency-Key" in _fields(response)


def test_oversized_body_is_413(api: Api) -> None:
    body = ticket_body(description="很" * 100_000)
    response = api.call("POST", "/tickets", role="bot", json=body)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "body_too_large"


def test_oversized_chunked_body_is_413(api: Api) -> None:
    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"company": "'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"}'

    response = api.call("POST", "/tickets", role="bot", data=chunks(), headers={"Content-Type": "application/json"})
    assert response.status_code == 413


def test_unknown_routes_and_methods_are_structured(api: Api) -> None:
    missing = api.call("GET", "/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = api.call("DELETE", "/tickets")
    assert wrong_method.status_code == 405 and wrong_method.json()["error"]["code"] == "method_not_allowed"


def test_a_trailing_slash_is_not_redirected_to_a_host_from_the_request(api: Api) -> None:
    response = api.call("GET", "/tickets/", headers={"Host": "evil.example"}, allow_redirects=False)
    assert response.status_code == 404 and "location" not in response.headers
    assert response.json()["error"]["code"]


def test_a_nul_in_a_list_filter_is_refused_not_a_database_error(api: Api) -> None:
    for field in ("conversation_id", "department"):
        assert _fields(api.call("GET", "/tickets", params={field: "a\x00b"})) == {field: "text_invalid_chars"}
