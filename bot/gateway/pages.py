"""HTML pages and static scripts: the demo platform page, the widget, the console and statistics."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from contract import vocabulary as words

router = APIRouter()
HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))

# The contract's words for the pages' scripts and selects (never a copy of their own).
VOCABULARY: dict[str, Any] = {
    "categories": list(words.CATEGORIES),
    "kinds": dict(words.KIND_LABELS),
    "default_kind": words.DEFAULT_KIND,
    "statuses": dict(words.STATUS_LABELS),
    "ratings": [[score, label] for score, label in words.RATING_LABELS.items()],
    "departments": list(words.DEPARTMENTS),
    "department_for": dict(words.DEPARTMENT_FOR_CATEGORY),
}


@functools.lru_cache(maxsize=1)
def widget_source() -> str:
    """widget.js with the rating labels of the contract filled in."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    return source.replace("__HOTLINE_RATINGS__", json.dumps(VOCABULARY["ratings"], ensure_ascii=False))

# The console runs only our own scripts: no inline script, nothing from elsewhere.
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@router.get("/", response_class=HTMLResponse)
async def demo_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "demo.html")


@router.get("/widget.js")
async def widget_js() -> Response:
    # Embedders' pages load it cross-origin; a short cache keeps updates flowing.
    return Response(widget_source(), media_type="application/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/console", response_class=HTMLResponse)
async def console_page(request: Request) -> Response:
    auth = request.app.state.auth
    session = auth.session(request)
    if session is None:
        token = auth.new_login_token()
        response = templates.TemplateResponse(request, "login.html", {"csrf": token}, headers=_console_headers())
        auth.set_login_cookie(response, token)
        return response
    return templates.TemplateResponse(
        request, "console.html", {"operator": session.account, "csrf": session.csrf, "vocabulary": VOCABULARY},
        headers=_console_headers()
    )


@router.get("/console/stats", response_class=HTMLResponse)
async def stats_page(request: Request) -> Response:
    session = request.app.state.auth.session(request)
    if session is None:
        return Response(status_code=303, headers={"Location": "/console"})
    return templates.TemplateResponse(
        request, "stats.html", {"operator": session.account, "csrf": session.csrf, "vocabulary": VOCABULARY},
        headers=_console_headers()
    )


@router.get("/api/v1/health")
async def health() -> dict:
    return {"status": "ok"}


def _console_headers() -> dict[str, str]:
    return {"Content-Security-Policy": CONSOLE_CSP, "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
