"""What every gateway answer tells the browser: no sniffing, no caching of personal data, no framing of
our pages (the widget stays embeddable), a same-origin-only console socket, a page for a wrong link."""
from __future__ import annotations

import requests

from tests.bot.gateway.conftest import Gateway, login


def test_every_answer_forbids_content_sniffing(gateway: Gateway) -> None:
    for path in ("/", "/widget.js", "/static/console.js", "/api/v1/health", "/console", "/no-such-page",
                 "/api/v1/console/queue"):
        response = requests.get(f"{gateway.url}{path}", timeout=10)
        assert response.headers.get("X-Content-Type-Options") == "nosniff", path


def test_console_and_department_answers_are_never_cached(gateway: Gateway) -> None:
    session, _ = login(gateway.url, "alice")
    for path in ("/api/v1/console/queue", "/api/v1/console/audit"):
        response = session.get(f"{gateway.url}{path}", timeout=10)
        assert response.ok and response.headers.get("Cache-Control") == "no-store", path
    refused = requests.get(f"{gateway.url}/api/v1/department/tickets", timeout=10)
    assert refused.status_code == 401 and refused.headers.get("Cache-Control") == "no-store"
    # The widget's script is public and may be cached briefly, as before.
    assert requests.get(f"{gateway.url}/widget.js", timeout=10).headers["Cache-Control"] == "public, max-age=300"


def test_the_console_connects_only_to_its_own_origin(gateway: Gateway) -> None:
    csp = requests.get(f"{gateway.url}/console", timeout=10).headers["Content-Security-Policy"]
    directives = {d.split()[0]: d.split()[1:] for d in csp.split("; ")}
    assert directives["connect-src"] == ["'self'"] and directives["frame-ancestors"] == ["'none'"]


def test_the_demo_page_is_not_framed_but_the_widget_script_stays_embeddable(gateway: Gateway) -> None:
    demo = requests.get(f"{gateway.url}/", timeout=10)
    assert demo.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in demo.headers["Content-Security-Policy"]
    assert "script-src" not in demo.headers["Content-Security-Policy"]  # the widget runs as on any site
    widget = requests.get(f"{gateway.url}/widget.js", timeout=10)
    assert widget.ok and "Content-Security-Policy" not in widget.headers and "X-Frame-Options" not in widget.headers


def test_a_browser_gets_a_chinese_page_for_a_wrong_address_an_api_client_gets_json(gateway: Gateway) -> None:
    page = requests.get(f"{gateway.url}/no-such-page", timeout=10,
                        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 404 and page.headers["Content-Type"].startswith("text/html")
    assert "页面不存在" in page.text and 'href="/"' in page.text and "detail" not in page.text
    api = requests.get(f"{gateway.url}/api/v1/no-such-thing", headers={"Accept": "application/json"}, timeout=10)
    assert api.status_code == 404 and api.json() == {"detail": "页面不存在"}
    refused = requests.get(f"{gateway.url}/no-such-page", headers={"Accept": "application/json, text/html;q=0"}, timeout=10)
    assert refused.status_code == 404 and refused.json() == {"detail": "页面不存在"}  # "no HTML, thanks"
    # A 404 a route gives on purpose stays the API's answer, even to a browser.
    session, _ = login(gateway.url, "alice")
    gone = session.get(f"{gateway.url}/api/v1/console/conversations/web-nobody", headers={"Accept": "text/html"})
    assert gone.status_code == 404 and gone.json() == {"detail": "会话不存在"}


def test_a_static_path_no_file_can_have_is_not_found_not_a_server_error(gateway: Gateway) -> None:
    for path in ("/static/%00", "/static/console.js%00", "/static/x%00.js"):
        response = requests.get(f"{gateway.url}{path}", timeout=10)
        assert response.status_code == 404, path
    assert "Traceback" not in gateway.log.read_text(encoding="utf-8")
    assert requests.get(f"{gateway.url}/static/console.js", timeout=10).ok  # real files are still served
