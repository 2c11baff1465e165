"""HTML pages and static scripts: the demo platform page, the widget, the console (with statistics
and the supervisor view) and the department workbench."""
from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates

from bot.gateway.accounts import DEPARTMENT, OPERATOR
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
    "actions": dict(words.ACTION_LABELS),
    "rework_max_score": words.REWORK_MAX_SCORE,
    "handoff_reasons": dict(words.HANDOFF_REASON_LABELS),
    "handoff_reason_other": words.HANDOFF_REASON_OTHER,
}

# What each kind's login form says, and where it posts.
LOGIN_FORMS: dict[str, dict[str, str]] = {
    OPERATOR: {"title": "96767 人工客服工作台", "subtitle": "坐席登录", "action": "/console/login", "user_label": "工号"},
    DEPARTMENT: {"title": "96767 承办部门工作台", "subtitle": "承办部门登录", "action": "/department/login",
                 "user_label": "账号"},
}


@functools.lru_cache(maxsize=1)
def widget_source() -> str:
    """widget.js with the rating and status labels of the contract filled in (the widget is embedded in
    the platform's pages, so it cannot read them from a page of ours)."""
    source = (STATIC / "widget.js").read_text(encoding="utf-8")
    for placeholder, key in (("__HOTLINE_RATINGS__", "ratings"), ("__HOTLINE_STATUSES__", "statuses")):
        source = source.replace(placeholder, json.dumps(VOCABULARY[key], ensure_ascii=False))
    return source

# The console runs only our own scripts: no inline script, nothing from elsewhere. Its WebSocket goes
# to this same origin only: 'self' covers ws:/wss: to the page's own host (CSP Level 3).
CONSOLE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# The demo page is framed by nobody, like the other pages. It is a stand-in for the platform's own
# pages, so only framing is restricted: the widget on it (and on any other site, through /widget.js)
# works as it does anywhere.
PAGE_FRAMING = {"Content-Security-Policy": "frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
                "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin"}
# The not-found page shows text and a link: nothing to load, run or frame.
NOT_FOUND_CSP = "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'"


@router.get("/", response_class=HTMLResponse)
async def demo_page(request: Request) -> Response:
    return templates.TemplateResponse(request, "demo.html", headers=PAGE_FRAMING)


def wants_html(request: Request) -> bool:
    """Whether a browser navigated here (a page is wanted), rather than an API client or a script."""
    if request.method not in ("GET", "HEAD"):
        return False
    for media_range in request.headers.get("accept", "").split(","):
        kind, *params = (part.strip() for part in media_range.split(";"))
        if kind.lower() == "text/html":
            # "text/html;q=0" is a client saying it does not want a page.
            return not any(p.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
    return False


def not_found_page(request: Request) -> Response:
    """A small Chinese page for a wrong address typed or followed in a browser (API clients get JSON)."""
    return templates.TemplateResponse(request, "not_found.html", status_code=404,
                                      headers={**PAGE_FRAMING, "Content-Security-Policy": NOT_FOUND_CSP})


@router.get("/widget.js")
async def widget_js() -> Response:
    # Embedders' pages load it cross-origin; a short cache keeps updates flowing.
    return Response(widget_source(), media_type="application/javascript; charset=utf-8",
                    headers={"Cache-Control": "public, max-age=300"})


@router.get("/console", response_class=HTMLResponse)
async def console_page(request: Request) -> Response:
    session = request.app.state.auth.session(request)
    if session is None:
        return _login_page(request, OPERATOR)
    return _page(request, "console.html", session)


def _operator_page(request: Request, template: str) -> Response:
    """A console sub-page: without an operator session, back to the console's login."""
    session = request.app.state.auth.session(request)
    if session is None:
        return Response(status_code=303, headers={"Location": "/console"})
    return _page(request, template, session)


@router.get("/console/stats", response_class=HTMLResponse)
async def stats_page(request: Request) -> Response:
    return _operator_page(request, "stats.html")


@router.get("/console/supervisor", response_class=HTMLResponse)
async def supervisor_page(request: Request) -> Response:
    return _operator_page(request, "supervisor.html")


@router.get("/department", response_class=HTMLResponse)
async def department_page(request: Request) -> Response:
    auth = request.app.state.auth
    session = auth.session(request, DEPARTMENT)
    account = auth.accounts.get(DEPARTMENT, session.account) if session else None
    if session is None or account is None:
        return _login_page(request, DEPARTMENT)
    return _page(request, "department.html", session, department=account.department)


def _login_page(request: Request, kind: str) -> Response:
    auth = request.app.state.auth
    token = auth.new_login_token()
    response = templates.TemplateResponse(request, "login.html", {"csrf": token, "form": LOGIN_FORMS[kind]},
                                          headers=_console_headers())
    auth.set_login_cookie(response, token, kind)
    return response


def _vocabulary(request: Request) -> dict[str, Any]:
    """The contract's words, with the departments that have workbench users added to the usual ones (so
    that an operator can hand a returned ticket to any department that can see it)."""
    configured = [department for _, department in request.app.state.settings.departments.values()]
    return {**VOCABULARY, "departments": list(dict.fromkeys([*VOCABULARY["departments"], *configured]))}


def _page(request: Request, template: str, session: Any, **context: Any) -> Response:
    return templates.TemplateResponse(
        request, template,
        {"operator": session.account, "user": session.account, "csrf": session.csrf, "vocabulary": _vocabulary(request),
         **context},
        headers=_console_headers(),
    )


@router.get("/console/", include_in_schema=False)
@router.get("/department/", include_in_schema=False)
@router.get("/console/stats/", include_in_schema=False)
@router.get("/console/supervisor/", include_in_schema=False)
async def without_trailing_slash(request: Request) -> Response:
    # A relative Location: the framework's own slash redirect names the host from the request's Host
    # header, which anyone can set (an open redirect). Other paths with a slash too many are 404.
    return Response(status_code=307, headers={"Location": request.url.path.rstrip("/")})


@router.get("/api/v1/health")
async def health() -> dict:
    return {"status": "ok"}


def _console_headers() -> dict[str, str]:
    return {"Content-Security-Policy": CONSOLE_CSP, "X-Frame-Options": "DENY",
            "Referrer-Policy": "same-origin", "Cache-Control": "no-store"}
