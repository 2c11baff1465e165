"""The console's ticket panel and statistics, and end-of-chat ratings, through the issue API.

The gateway holds one operator-role token (env ISSUE_API_TOKEN) and speaks for the logged-in
operator; browsers never see the token.
"""
from __future__ import annotations

from typing import Any

import httpx


class IssueApiError(Exception):
    """The issue API refused or could not be reached; `status` and `detail` go back to the console."""

    def __init__(self, status: int, detail: Any) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class IssueApiClient:
    def __init__(self, base_url: str, token: str, timeout: float = 10.0) -> None:
        self._http = httpx.AsyncClient(
            base_url=f"{base_url.rstrip('/')}/api/v1",
            headers={"Authorization": f"Bearer {token}"} if token else {},
            timeout=timeout,
        )

    async def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise IssueApiError(502, f"工单系统暂时无法访问（{type(exc).__name__}）") from exc
        try:
            body = response.json()
        except ValueError:
            body = {"detail": response.text[:300]}
        if response.status_code >= 400:
            raise IssueApiError(response.status_code, _message(body))
        return body

    async def ticket(self, ticket_id: str) -> dict:
        return await self.request("GET", f"/tickets/{ticket_id}")

    async def tickets_by_phone(self, phone: str) -> dict:
        return await self.request("GET", "/tickets", params={"phone": phone})

    async def file_ticket(self, fields: dict, idempotency_key: str) -> dict:
        return await self.request("POST", "/tickets", json=fields, headers={"Idempotency-Key": idempotency_key})

    async def stats(self) -> dict:
        return await self.request("GET", "/stats")

    async def rate(self, ticket_id: str, score: int, comment: str) -> dict:
        """Rate a resolved ticket (409 otherwise); when to call it is ticket_ratings' business."""
        return await self.request("POST", f"/tickets/{ticket_id}/rating", json={"score": score, "comment": comment})

    async def aclose(self) -> None:
        await self._http.aclose()


def _message(body: Any) -> str:
    """The issue API's `{"error": {"message", "fields"}}` as one Chinese sentence for the console."""
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        detail = body.get("detail") if isinstance(body, dict) else None
        return detail if isinstance(detail, str) else "工单系统返回错误"
    message = str(error.get("message") or "工单系统返回错误")
    fields = [f"{f.get('field', '')}：{f.get('message', '')}" for f in error.get("fields") or [] if isinstance(f, dict)]
    return message + ("（" + "；".join(fields) + "）" if fields else "")
