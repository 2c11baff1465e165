"""The one way the actions talk to the issue API.

Timeouts on every call, retries with exponential backoff on connection errors and 5xx (only where
repeating is safe: reads, and submissions that carry an Idempotency-Key), and every failure turned
into an `IssueApiError` that knows the Chinese sentence to say to the caller.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Optional

import requests

from actions.masking import mask_phone

log = logging.getLogger(__name__)

FIELD_LABELS = {
    "company": "单位名称",
    "contact_name": "联系人姓名",
    "phone": "联系电话",
    "category": "问题类别",
    "description": "问题描述",
    "kind": "诉求类型",
    "location": "地点",
    "text": "补充内容",
    "reason": "撤销原因",
    "score": "评分",
    "comment": "评价意见",
    "note": "说明",
}


@dataclass
class IssueApiError(Exception):
    """A failed call, with what to tell the caller."""

    reply: str
    status: Optional[int] = None
    fields: list[dict[str, Any]] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{type(self).__name__}({self.status}): {self.reply}"


class ApiUnavailable(IssueApiError):
    """Network down, timeout or 5xx after all retries: the API could not answer."""


class TicketNotFound(IssueApiError):
    """404: no ticket with that number."""


class Refused(IssueApiError):
    """409: the ticket's state does not allow this (e.g. cancel after 办结)."""


class Invalid(IssueApiError):
    """422: a field was rejected; `fields` names which."""


class NotAllowed(IssueApiError):
    """401/403: the bot's token is missing or lacks the role. An operator must fix the setup."""


UNAVAILABLE_REPLY = "工单系统暂时连接不上，请稍后再试，或者说“转人工”由工作人员为您处理。"


class IssueClient:
    """Blocking client; call it from a worker thread (see actions/runtime.py), never the event loop."""

    def __init__(self, base_url: str, token: str, timeout: float = 5.0, max_attempts: int = 3,
                 backoff: float = 0.3) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self._local = threading.local()

    # -- transport -------------------------------------------------------------------------------
    def _session(self) -> requests.Session:
        """One Session (connection pool) per worker thread: Session is not documented thread-safe."""
        session = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.headers["Authorization"] = f"Bearer {self.token}"
            session.headers["Accept"] = "application/json"
            self._local.session = session
        return session

    def _call(self, method: str, path: str, *, retry: bool, headers: dict[str, str] | None = None,
              **kwargs: Any) -> dict[str, Any]:
        url = f"{self.base_url}/api/v1{path}"
        attempts = self.max_attempts if retry else 1
        last: Exception | None = None
        for attempt in range(1, attempts + 1):
            if attempt > 1:
                time.sleep(self.backoff * (2 ** (attempt - 2)))
            try:
                response = self._session().request(
                    method, url, timeout=self.timeout, headers=headers, **kwargs
                )
            except requests.RequestException as exc:
                last = exc
                continue
            if response.status_code < 500:
                return self._result(response)
            last = requests.HTTPError(f"{response.status_code} from {method} {path}")
        log.warning("issue API unavailable for %s %s after %d attempt(s): %s", method, path, attempts, last)
        raise ApiUnavailable(UNAVAILABLE_REPLY)

    @staticmethod
    def _result(response: requests.Response) -> dict[str, Any]:
        try:
            body = response.json() if response.content else {}
        except ValueError:
            body = {}
        if response.ok:
            return body
        error = body.get("error") if isinstance(body, dict) else None
        error = error if isinstance(error, dict) else {}
        if not error and isinstance(body, dict) and isinstance(body.get("detail"), (str, dict)):
            detail = body["detail"]
            error = detail.get("error", detail) if isinstance(detail, dict) else {"message": detail}
        message = str(error.get("message") or "")
        status = response.status_code
        if status == 404:
            raise TicketNotFound("没有查到这个工单编号，请您核对一下再说一遍。", status)
        if status == 409:
            raise Refused(message or "这件工单当前的状态不能办理这项操作。", status)
        if status == 422:
            fields = list(error.get("fields") or [])
            names = "、".join(dict.fromkeys(FIELD_LABELS.get(f.get("field", ""), "信息") for f in fields))
            raise Invalid(f"{names or '填写的信息'}不符合要求，需要重新确认一下。", status, fields)
        if status in (401, 403):
            log.error("issue API refused the bot token (%s): check ISSUE_API_TOKEN", status)
            raise NotAllowed("工单系统暂时无法办理，请说“转人工”由工作人员为您处理。", status)
        raise IssueApiError(f"工单系统返回了错误，请稍后再试。{message}", status)

    # -- the API ---------------------------------------------------------------------------------
    def create_ticket(self, payload: dict[str, Any], idempotency_key: str) -> dict[str, Any]:
        """POST /tickets; repeating with the same key never makes a second ticket."""
        log.info("filing ticket key=%s phone=%s", idempotency_key, mask_phone(payload.get("phone")))
        return self._call("POST", "/tickets", retry=True, json=payload,
                          headers={"Idempotency-Key": idempotency_key})

    def get_ticket(self, ticket_id: str) -> dict[str, Any]:
        return self._call("GET", f"/tickets/{ticket_id}", retry=True)

    def tickets_by_phone(self, phone: str) -> list[dict[str, Any]]:
        body = self._call("GET", "/tickets", retry=True, params={"phone": phone})
        return list(body.get("items", []))

    def urge(self, ticket_id: str, note: str = "", key: str | None = None) -> dict[str, Any]:
        return self._act(ticket_id, "urge", {"note": note}, key)

    def supplement(self, ticket_id: str, text: str, key: str | None = None) -> dict[str, Any]:
        return self._act(ticket_id, "supplements", {"text": text}, key)

    def cancel(self, ticket_id: str, reason: str, key: str | None = None) -> dict[str, Any]:
        return self._act(ticket_id, "cancel", {"reason": reason}, key)

    def rate(self, ticket_id: str, score: int, comment: str = "", key: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"score": score}
        if comment.strip():
            body["comment"] = comment.strip()[:200]
        return self._act(ticket_id, "rating", body, key)

    def _act(self, ticket_id: str, action: str, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        """A ticket action; with an Idempotency-Key it is safe to retry, without it one attempt only."""
        headers = {"Idempotency-Key": key} if key else None
        return self._call("POST", f"/tickets/{ticket_id}/{action}", retry=key is not None,
                          json=body, headers=headers)

    def healthy(self) -> bool:
        try:
            return self._session().get(f"{self.base_url}/api/v1/health", timeout=self.timeout).ok
        except requests.RequestException:
            return False
