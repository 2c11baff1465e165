"""Forty clients at once: ids stay unique, and one Idempotency-Key still makes one ticket."""
from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List

import requests

from tests.issue_api.conftest import TOKENS, Api, random_mobile, ticket_body

CLIENTS = 40


def _race(work: Callable[[requests.Session], requests.Response]) -> List[requests.Response]:
    """Run `work` in CLIENTS threads released together by a barrier."""
    barrier = threading.Barrier(CLIENTS)

    def one(_: int) -> requests.Response:
        session = requests.Session()
        barrier.wait()
        return work(session)

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(one, range(CLIENTS)))


def test_concurrent_filings_get_unique_ids(api: Api) -> None:
    phone = random_mobile()

    def file(session: requests.Session) -> requests.Response:
        return session.post(f"{api.url}/api/v1/tickets", json=ticket_body(phone=phone), timeout=60,
                            headers={"Authorization": f"Bearer {TOKENS['bot']}"})

    responses = _race(file)
    assert [r.status_code for r in responses] == [201] * CLIENTS, [r.text for r in responses if r.status_code != 201]
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == CLIENTS
    listed = api.call("GET", "/tickets", params={"phone": phone, "limit": 200}).json()["items"]
    assert sorted(item["id"] for item in listed) == sorted(ids)


def test_racing_requests_with_one_idempotency_key_make_one_ticket(api: Api) -> None:
    phone = random_mobile()
    body = ticket_body(phone=phone)
    key = f"call-{uuid.uuid4()}"

    def file(session: requests.Session) -> requests.Response:
        return session.post(f"{api.url}/api/v1/tickets", json=body, timeout=60,
                            headers={"Authorization": f"Bearer {TOKENS['bot']}", "Idempotency-Key": key})

    responses = _race(file)
    codes = sorted(r.status_code for r in responses)
    assert codes == [200] * (CLIENTS - 1) + [201], [r.text for r in responses if r.status_code >= 300]
    assert len({r.json()["id"] for r in responses}) == 1
    assert len(api.call("GET", "/tickets", params={"phone": phone}).json()["items"]) == 1


def test_concurrent_urges_are_all_counted(api: Api) -> None:
    ticket = api.file()

    def urge(session: requests.Session) -> requests.Response:
        return session.post(f"{api.url}/api/v1/tickets/{ticket['id']}/urge", json={}, timeout=60,
                            headers={"Authorization": f"Bearer {TOKENS['bot']}", "X-Query-Code": ticket["query_code"]})

    responses = _race(urge)
    assert all(r.status_code == 200 for r in responses)
    assert api.get(ticket["id"])["urge_count"] == CLIENTS


def test_a_burst_of_wrong_query_codes_is_counted_one_by_one(api: Api) -> None:
    ticket = api.file()
    wrong = f"{(int(api.codes[ticket['id']]) + 7) % 1_000_000:06d}"

    def guess(n: int) -> int:
        headers = {"X-Query-Code": wrong, "X-Proof-Client": f"net:burst-{n}"}
        return api.call("GET", f"/tickets/{ticket['id']}", role="bot", proof=False, headers=headers).status_code

    with ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(guess, range(48)))
    assert codes.count(403) == 6 and codes.count(429) == 42, codes  # never a 500, never more answers
