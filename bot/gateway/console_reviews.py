"""The console's side of the department loop, through the issue API with the operator token: reviews of
the departments' extension and return requests, alerts (low ratings, failed 回访) with a rating an
operator took by phone, and the supervisor's figures and export.

Every decision needs the session's CSRF token and is written to the audit log with the operator's
name; the ticket's own history (in the issue API) says what was decided and why.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any, Literal, Optional

from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel, Field, StrictInt, StrictStr, conint, validator

from bot.gateway.console_deps import audit_of, board_of, idempotency_key, issue_api_of, operator, ticket_number
from bot.gateway.department_api import DATE
from bot.gateway.tickets_api import issue_call

log = logging.getLogger(__name__)
router = APIRouter()

EXPORT_FORMATS = {"csv", "xlsx"}


class ReviewBody(BaseModel):
    decision: Literal["approve", "reject"]
    review_id: Optional[StrictInt] = None  # the request on the operator's screen (see the issue API)
    type: Optional[Literal["extension", "return"]] = None
    reason: StrictStr = Field("", max_length=500)
    deadline: Optional[StrictStr] = Field(None, regex=DATE)  # extension: the new date (default the requested one)
    department: Optional[StrictStr] = Field(None, max_length=64)  # return: where the ticket goes

    @validator("reason")
    def _reason(cls, value: str) -> str:  # noqa: N805
        return value.strip()


class RatingBody(BaseModel):
    score: conint(strict=True, ge=1, le=5)  # type: ignore[valid-type]  # a JSON true is not a score of 1
    comment: StrictStr = Field("", max_length=500)


@router.get("/api/v1/console/reviews")
async def reviews(request: Request) -> dict:
    """Pending extension and return requests, oldest first (read now; consoles also get them pushed)."""
    operator(request)
    board = board_of(request)
    await board.refresh()
    return {"items": board.reviews}


@router.get("/api/v1/console/alerts")
async def alerts(request: Request) -> dict:
    operator(request)
    board = board_of(request)
    await board.refresh()
    return {"items": board.alerts}


@router.post("/api/v1/console/tickets/{ticket_id}/review")
async def review(ticket_id: str, body: ReviewBody, request: Request) -> Any:
    """Approve (an extension's new deadline, or a return's new department) or reject with a reason."""
    session = operator(request, csrf=True)
    if body.decision == "reject" and not body.reason:
        raise HTTPException(status_code=422, detail="驳回时请填写理由")
    done = await issue_call(issue_api_of(request).review, ticket_number(ticket_id), body.decision, body.reason,
                            body.deadline, (body.department or "").strip() or None, idempotency_key(request),
                            body.review_id, body.type)
    what = f"ticket {ticket_id}" + (f", to {body.department}" if body.department and body.decision == "approve" else "")
    what += f", deadline {body.deadline}" if body.deadline and body.decision == "approve" else ""
    audit_of(request).record("review_approved" if body.decision == "approve" else "review_rejected",
                             session.account, None, what, kind=session.kind)
    log.info("operator %s %sd the request on ticket %s", session.account, body.decision, ticket_id)
    board_of(request).poke()
    return done


@router.post("/api/v1/console/tickets/{ticket_id}/rating")
async def rate(ticket_id: str, body: RatingBody, request: Request) -> Any:
    """A rating an operator took by phone (after a failed automatic 回访)."""
    session = operator(request, csrf=True)
    done = await issue_call(issue_api_of(request).rate, ticket_number(ticket_id), body.score, body.comment,
                            idempotency_key(request))
    audit_of(request).record("ticket_rated", session.account, None, f"ticket {ticket_id}, score {body.score}",
                             kind=session.kind)
    board_of(request).poke()
    return done


@router.get("/api/v1/console/supervisor")
async def supervisor(request: Request) -> dict:
    """Per department figures, and the overdue tickets."""
    operator(request)
    client = issue_api_of(request)
    departments = await issue_call(client.department_stats)
    overdue, more = await issue_call(client.all_tickets, overdue=True)
    overdue.sort(key=lambda t: str(t.get("deadline") or ""))
    return {"departments": departments, "overdue": overdue, "truncated": more}


@router.get("/api/v1/console/export")
async def export(request: Request, date_from: str = Query(..., alias="from", regex=DATE),
                 date_to: str = Query(..., alias="to", regex=DATE), format: str = Query("xlsx")) -> Response:
    """The tickets filed in a date range, as the issue API's CSV or XLSX file."""
    session = operator(request)
    if format not in EXPORT_FORMATS:
        raise HTTPException(status_code=422, detail="导出格式应为 csv 或 xlsx")
    try:
        if dt.date.fromisoformat(date_from) > dt.date.fromisoformat(date_to):
            raise HTTPException(status_code=422, detail="开始日期不能晚于结束日期")
    except ValueError:
        raise HTTPException(status_code=422, detail="日期格式应为 YYYY-MM-DD") from None
    download = await issue_call(issue_api_of(request).export_tickets, date_from, date_to, format)
    filename = download.filename if re.fullmatch(r"[\w.-]+", download.filename or "") else \
        f"tickets-{date_from}-{date_to}.{format}"
    audit_of(request).record("tickets_exported", session.account, None, f"{date_from}..{date_to} {format}",
                             kind=session.kind)
    return Response(download.content, media_type=download.content_type or "application/octet-stream",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})
