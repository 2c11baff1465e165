"""The interactive API docs work offline: Swagger UI comes from vendored files, not a CDN."""
from __future__ import annotations

from issue_api.docs import SWAGGER_DIR


def test_docs_page_loads_swagger_ui_from_the_service_itself(api):
    page = api.http.get(f"{api.url}/docs", timeout=10)
    assert page.status_code == 200
    assert "/static/swagger-ui/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    bundle = api.http.get(f"{api.url}/static/swagger-ui/swagger-ui-bundle.js", timeout=10)
    assert bundle.status_code == 200
    assert bundle.content == (SWAGGER_DIR / "swagger-ui-bundle.js").read_bytes()


def test_docs_are_not_part_of_the_api_document(api):
    paths = api.http.get(f"{api.url}/openapi.json", timeout=10).json()["paths"]
    assert "/docs" not in paths
    assert not any(path.startswith("/static") for path in paths)
