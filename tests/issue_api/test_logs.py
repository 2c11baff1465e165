"""The running server's log never contains a caller's full phone number."""
from __future__ import annotations

import time

from tests.issue_api.conftest import random_mobile


def test_server_log_masks_phone_numbers(fresh_api) -> None:  # type: ignore[no-untyped-def]
    api = fresh_api(ISSUE_API_ACCESS_LOG="true", ISSUE_API_LOG_LEVEL="debug")
    phone = random_mobile()
    ticket = api.file(phone=phone)
    api.call("GET", "/tickets", role="bot", params={"phone": phone})
    api.call("GET", "/tickets", role="bot", params={"phone": "029-88881234"})
    api.call("POST", "/tickets", role="bot", json={"phone": phone})  # a 422
    time.sleep(0.3)
    log = api.log_path.read_text(encoding="utf-8")
    assert "/api/v1/tickets?phone=" in log  # the access log is on...
    assert f"{phone[:3]}****{phone[-4:]}" in log
    assert phone not in log and "88881234" not in log  # ...and masked
    assert ticket["id"] in api.get(ticket["id"])["id"]
