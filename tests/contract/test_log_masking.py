"""One masking for every log line: every way of writing a phone number, and the web chat's access
key, never reach a log in clear; ticket numbers stay readable."""
from __future__ import annotations

import logging
import time

import pytest

from contract.log_masking import MaskingFilter, mask_text


@pytest.mark.parametrize("line, hidden", [
    ("caller 13812345678", "13812345678"),
    ("caller 138-1234-5678", "1234-5678"),
    ("caller +86 138 1234 5678", "1234 5678"),
    ("caller 0086 13812345678", "13812345678"),
    ("GET /tickets?phone=%2B8613812345678", "13812345678"),
    ("tel 029-88881234", "88881234"),
    ("tel 029-8888-1234", "8888-1234"),
    ("tel (029) 8888 1234", "8888 1234"),
    ("tel 02988881234", "88881234"),
    ("tel 0917-1234567", "1234567"),
    ("local 88881234", "88881234"),
    ("local 8888-1234", "8888-1234"),
    ('"WebSocket /ws/chat?sender=web-0123456789abcdef0123456789abcdef" [accepted]', "0123456789abcdef"),
    ("Authorization: Bearer s3cr3t-token-value", "s3cr3t-token-value"),
    # Every form the issue API accepts for a phone query, as an access line writes its query string.
    ('"GET /api/v1/tickets?phone=139+1234+5678 HTTP/1.1" 200', "1234+5678"),
    ("GET /api/v1/tickets?phone=%28139%2912345678", "12345678"),
    ("GET /api/v1/tickets?phone=%2B86+139+1234+5678", "1234+5678"),
    ("GET /api/v1/tickets?phone=%EF%BC%91%EF%BC%93%EF%BC%99%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95"
     "%EF%BC%96%EF%BC%97%EF%BC%98", "%EF%BC%94%EF%BC%95%EF%BC%96%EF%BC%97"),
    ("phone 139.1234.5678", "1234.5678"),
    ("phone (139)12345678", "12345678"),
    ("phone １３９１２３４５６７８", "１２３４５６７８"),
])
def test_phones_and_access_keys_are_masked(line: str, hidden: str) -> None:
    masked = mask_text(line)
    assert hidden not in masked, masked
    assert "****" in masked or "***" in masked


@pytest.mark.parametrize("line", ["ticket 2611270001 urged", "ticket 261127000123", "工单编号是 2611 2700 01",
                                  "took 12 ms", "year 2026", "50% of 2+2 at 10.0.0.1, version 1.2.3",
                                  "GET /api/v1/tickets?status=resolved&q=%E8%B7%AF%E7%81%AF"])
def test_ticket_numbers_and_ordinary_numbers_stay(line: str) -> None:
    assert mask_text(line) == line


def test_the_filter_masks_arguments_tracebacks_and_stacks() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "caller %s from %s", ("029-88881234", "+86 139 1234 5678"),
                               None)
    MaskingFilter().filter(record)
    assert record.getMessage() == "caller 029-****1234 from 139****5678"


def test_a_decoded_line_neither_forges_lines_nor_shows_secrets() -> None:
    forged = mask_text("GET /tickets?q=139+1234+5678%0A2026-12-01 INFO admin logged in")
    assert "\n" not in forged and "139****5678" in forged and ("\\x0a" in forged or "%0A" in forged)
    hidden = mask_text("GET /x?next=%2Fws%2Fchat%3Fsender%3DSECRETKEY123&p=%EF%BC%91%EF%BC%93%EF%BC%99"
                       "%EF%BC%91%EF%BC%92%EF%BC%93%EF%BC%94%EF%BC%95%EF%BC%96%EF%BC%97%EF%BC%98")
    assert "SECRETKEY123" not in hidden and "139****5678" in hidden



@pytest.mark.parametrize("written", ["1391 234 5678", "139 123 45678", "1391  234--5678", "+86 29 8888 1234",
                                     "29 8888 1234", "(029) 8888-1234", "1391+234+5678", "139—1234—5678",
                                     "139–1234–5678", "139/1234/5678", "1 3 9 1 2 3 4 5 6 7 8"])
def test_phones_in_any_grouping_are_masked(written: str) -> None:
    masked = mask_text(f"GET /api/v1/tickets?phone={written} 401")
    assert not any(run in masked for run in ("12345678", "234 5678", "8888 1234", "45678", "88881234")), masked


def test_a_phone_spelled_one_digit_at_a_time_is_masked() -> None:
    assert mask_text("来电 1 3 9 1 2 3 4 5 6 7 8 挂断") == "来电 139****5678 挂断"


def test_a_line_full_of_digit_groups_is_masked_in_bounded_time() -> None:
    """Every log line goes through here: a request stuffed with digit groups must not stall a process."""
    line = "GET /nope?q=" + "029+" * 2000 + " and 139 1234 5678 " + "8888 " * 20000
    began = time.perf_counter()
    masked = mask_text(line)
    assert time.perf_counter() - began < 1.0  # (about 0.01 s here; without a bound it took seconds)
    assert "139 1234 5678" not in masked and "1234 5678" not in masked


def test_counts_in_a_log_line_are_not_taken_for_phones() -> None:
    assert mask_text("counts 10 20 30 40 50 60 70 80") == "counts 10 20 30 40 50 60 70 80"


@pytest.mark.parametrize("ticket", ["2612020001", "2712010001", "2901010001", "2712 0100 01"])
def test_ticket_numbers_and_time_stamps_stay_readable_in_logs(ticket: str) -> None:
    line = f"2026-12-01 19:00:01,123 INFO ticket {ticket}: urge by bot, 2026/12/01 08 30"
    assert mask_text(line) == line


def test_a_call_uuid_is_kept_whole_so_a_call_can_be_found_by_it() -> None:
    line = "AudioSocket call 4cd0d138-0012-0500-442f-0123456789ab closed (caller 13812345678)"
    assert mask_text(line) == "AudioSocket call 4cd0d138-0012-0500-442f-0123456789ab closed (caller 138****5678)"
