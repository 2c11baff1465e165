"""The issue API's error envelope, shared by the service that writes it and the clients that read it.

    {"error": {"code": "validation_failed", "message": "...", "fields": [{"field", "code", "message"}]}}

`code` is stable and meant for programs; `message` is Chinese and meant for people, shown as it is.
"""
from __future__ import annotations

from typing import Any, Dict, List, Mapping, Optional, Sequence

from pydantic import BaseModel


class ErrorField(BaseModel):
    field: str
    code: str
    message: str


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: Optional[List[ErrorField]] = None


class ErrorOut(BaseModel):
    error: ErrorDetail


def error_body(code: str, message: str, fields: Optional[Sequence[Mapping[str, str]]] = None) -> Dict[str, Any]:
    body: Dict[str, Any] = {"code": code, "message": message}
    if fields is not None:
        body["fields"] = [dict(f) for f in fields]
    return {"error": body}


def read_error(body: Any) -> ErrorDetail:
    """The envelope out of any response body, tolerant of bodies that are not one (a proxy's page,
    FastAPI's plain {"detail": ...})."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        fields = [
            ErrorField(field=str(f.get("field", "")), code=str(f.get("code", "")), message=str(f.get("message", "")))
            for f in error.get("fields") or [] if isinstance(f, dict)
        ]
        return ErrorDetail(code=str(error.get("code") or "error"), message=str(error.get("message") or ""),
                           fields=fields or None)
    detail = body.get("detail") if isinstance(body, dict) else None
    return ErrorDetail(code="error", message=detail if isinstance(detail, str) else "")
