"""Interactive API docs served from vendored files: the hotline runs where no CDN is reachable.

FastAPI's default /docs page pulls Swagger UI from a CDN and stays blank offline, so `make vendor`
copies swagger-ui-dist from the npm registry into issue_api/static/swagger-ui/ and we point the page
there.
"""
from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

SWAGGER_DIR = Path(__file__).resolve().parent / "static" / "swagger-ui"


def install_docs(app: FastAPI) -> None:
    """Serve /docs from the vendored Swagger UI, or a page that says how to get it."""
    if (SWAGGER_DIR / "swagger-ui-bundle.js").exists():
        app.mount("/static/swagger-ui", StaticFiles(directory=SWAGGER_DIR), name="swagger-ui")

        @app.get("/docs", include_in_schema=False)
        def docs() -> HTMLResponse:
            return get_swagger_ui_html(
                openapi_url=app.openapi_url or "/openapi.json",
                title=f"{app.title} - API 文档",
                swagger_js_url="/static/swagger-ui/swagger-ui-bundle.js",
                swagger_css_url="/static/swagger-ui/swagger-ui.css",
                swagger_favicon_url="/static/swagger-ui/favicon-32x32.png",
            )
    else:

        @app.get("/docs", include_in_schema=False)
        def docs_missing() -> HTMLResponse:
            return HTMLResponse(
                "<!doctype html><meta charset=utf-8><title>API 文档</title>"
                "<p>交互式文档尚未安装：请在项目根目录运行 <code>make vendor</code>。</p>"
                '<p>OpenAPI 文档：<a href="/openapi.json">/openapi.json</a></p>',
                status_code=503,
            )
