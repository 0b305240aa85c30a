"""The dashboard (GET /__mock/ui) in a real browser: the distribution's Chromium driven by Playwright.

The server is started as users start it (`mockserver serve`). Every feature is driven through
the page (click, type, wait for the live row); a test fails on any console error, uncaught
exception or failed request of the page, except the HTTP errors it provokes on purpose. Without
a Chromium these tests fail with the command that installs one (tests/browser.py).
"""

from __future__ import annotations

import http.server
import re
import threading
from collections.abc import Iterator
from urllib.parse import quote

import pytest
from browser import INSTALL
from helpers import BULK_SEND_EXAMPLE, COLLECT_KEY, INSIGNER_KEY, SEND_EXAMPLE, basic, bearer, start_serve, web
from playwright.sync_api import Browser, Page, expect

CREATE = "/api/v1/bulk-sends"
EXAMPLE = BULK_SEND_EXAMPLE
COLLECT_BODY = SEND_EXAMPLE
HTTP_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d{3})")


@pytest.fixture(scope="module")
def served():
    server = start_serve()
    yield server
    server.stop()


@pytest.fixture
def url(served) -> str:
    web.post(served.url + "/__mock/reset", timeout=10).raise_for_status()
    web.delete(served.url + "/__mock/coverage", timeout=10).raise_for_status()
    return served.url


class Watched:
    """A page whose console errors, uncaught exceptions and failed requests are kept."""

    def __init__(self, page: Page, origin: str) -> None:
        self.page = page
        self.origin = origin
        self.problems: list[str] = []
        self.allowed: set[int] = set()
        self.foreign: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.problems.append(f"uncaught: {error}"))
        page.on("requestfailed", self._failed)
        page.on("request", self._request)

    def _console(self, message) -> None:
        if message.type not in ("error", "warning"):
            return
        found = HTTP_ERROR.search(message.text)
        if found and int(found.group(1)) in self.allowed:
            return
        self.problems.append(f"console {message.type}: {message.text}")

    def _failed(self, request) -> None:
        # A reload or a closed tab aborts the fetches in flight: that is the browser's doing, not a failure.
        if request.failure != "net::ERR_ABORTED":
            self.problems.append(f"failed: {request.url} {request.failure}")

    def _request(self, request) -> None:
        if not request.url.startswith(self.origin) and not request.url.startswith("data:"):
            self.foreign.append(request.url)

    def allow(self, *statuses: int) -> None:
        """HTTP error answers the test provokes on purpose (Chromium logs each as a console error)."""
        self.allowed.update(statuses)

    def open(self) -> Page:
        self.page.goto(self.origin + "/__mock/ui")
        expect(self.page.locator("#main")).to_be_visible()
        return self.page


@pytest.fixture
def watched(browser: Browser, url: str) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = Watched(context.new_page(), url)
    yield page
    context.close()
    assert page.problems == []
    assert page.foreign == [], "the page asked another host for something"


def journal_rows(page: Page):
    return page.locator("#journal-table tbody tr")


# -- the page ------------------------------------------------------------------------------------------
def test_page__one_origin_a_strict_policy_and_the_servers_details(watched, url):
    response = web.get(url + "/__mock/ui")
    assert response.headers["Content-Type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src 'self'" in policy and "connect-src 'self'" in policy
    page = watched.open()
    expect(page.locator("#server-info")).to_contain_text("store memory · seed 42")
    assert page.title() == "mockserver dashboard"


# -- the journal ---------------------------------------------------------------------------------------
def test_journal__a_new_request_appears_within_a_second_without_reloading(watched, url):
    page = watched.open()
    expect(journal_rows(page)).to_have_count(0)
    web.post(url + CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))
    row = journal_rows(page).filter(has_text="POST /api/v1/bulk-sends")
    expect(row).to_be_visible(timeout=1000)
    expect(row).to_contain_text("201")
    web.get(url + CREATE, headers=bearer(INSIGNER_KEY))
    expect(journal_rows(page)).to_have_count(2, timeout=1000)
    expect(journal_rows(page).first).to_contain_text("GET /api/v1/bulk-sends")  # newest first


def test_journal__filters(watched, url):
    web.post(url + CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))
    web.post(url + "/v1/requests", json=COLLECT_BODY, headers=basic(COLLECT_KEY))
    web.get(url + CREATE + "/bs_abc123", headers=bearer(INSIGNER_KEY))
    page = watched.open()
    expect(journal_rows(page)).to_have_count(3)
    page.select_option("#filter-api", "collect")
    expect(journal_rows(page)).to_have_count(1)
    expect(journal_rows(page).first).to_contain_text("POST /v1/requests")
    page.select_option("#filter-api", "")
    page.fill("#filter-path", "/api/v1/bulk-sends/*")
    expect(journal_rows(page)).to_have_count(1)
    page.fill("#filter-path", "")
    page.fill("#filter-status", "201")
    expect(journal_rows(page)).to_have_count(1)
    page.fill("#filter-status", "")
    page.fill("#filter-tenant", COLLECT_KEY)
    expect(journal_rows(page)).to_have_count(1)
    page.fill("#filter-tenant", "")
    page.select_option("#filter-method", "GET")
    expect(journal_rows(page)).to_have_count(1)
    expect(page.locator("#journal-total")).to_have_text("1 matching")


def test_journal__one_requests_detail_headers_redacted_body_status_fault(watched, url):
    web.post(url + CREATE, json=EXAMPLE, headers={**bearer(INSIGNER_KEY), "Prefer": "code=503"})
    page = watched.open()
    page.get_by_role("button", name="Show request 1").click()
    detail = page.locator("#request-detail")
    expect(detail).to_be_visible()
    expect(page.locator("#detail-title")).to_have_text("Request 1: POST /api/v1/bulk-sends")
    expect(page.locator("#detail-summary")).to_contain_text("503")
    expect(page.locator("#detail-summary")).to_contain_text("prefer")
    expect(page.locator("#detail-headers")).to_contain_text("Bearer isk_Test...")
    assert INSIGNER_KEY not in detail.inner_text()
    expect(page.locator("#detail-body")).to_contain_text('"name": "Q3 Vendor Agreements"')
    page.get_by_role("button", name="Close the detail").click()
    expect(detail).to_be_hidden()


# -- fault rules ---------------------------------------------------------------------------------------
def test_faults__add_from_the_form_see_hits_live_and_remove(watched, url):
    page = watched.open()
    page.select_option("#fault-api", "collect")
    page.fill("#fault-path", "/v1/requests")
    page.fill("#fault-status", "503")
    page.fill("#fault-times", "2")
    page.get_by_role("button", name="Add the rule").click()
    row = page.locator("#faults-table tbody tr", has_text="flt_1")
    expect(row).to_contain_text("collect * /v1/requests")
    expect(row.locator(".hits")).to_have_text("0")
    assert web.post(url + "/v1/requests", json=COLLECT_BODY, headers=basic(COLLECT_KEY)).status_code == 503
    expect(row.locator(".hits")).to_have_text("1", timeout=1000)
    page.get_by_role("button", name="Remove rule flt_1").click()
    expect(row).to_have_count(0)
    assert web.get(url + "/__mock/faults").json() == {"faults": []}


def test_faults__the_servers_400_shows_next_to_the_field(watched, url):
    watched.allow(400)
    page = watched.open()
    page.fill("#fault-status", "200")
    page.fill("#fault-probability", "2")
    page.get_by_role("button", name="Add the rule").click()
    expect(page.locator('[data-error-for="status"]')).to_contain_text("400")
    expect(page.locator('[data-error-for="probability"]')).to_contain_text("1")
    assert web.get(url + "/__mock/faults").json() == {"faults": []}


# -- scenarios, clock, rate limits -------------------------------------------------------------------
def test_scenarios__apply(watched, url):
    page = watched.open()
    page.get_by_role("button", name="Apply scenario collect-maintenance").click()
    expect(page.locator("#scenario-result")).to_contain_text("Applied collect-maintenance: 1 fault rules")
    expect(page.locator("#faults-table tbody tr")).to_have_count(1)
    assert len(web.get(url + "/__mock/faults").json()["faults"]) == 1


def test_clock__freeze_advance_unfreeze(watched, url):
    page = watched.open()
    page.fill("#clock-at", "2030-01-01T09:00:00Z")
    page.get_by_role("button", name="Freeze", exact=True).click()
    expect(page.locator("#clock-now")).to_have_text("2030-01-01T09:00:00.000Z")
    expect(page.locator("#clock-frozen")).to_have_text("(frozen)")
    page.fill("#clock-seconds", "90")
    page.get_by_role("button", name="Advance").click()
    expect(page.locator("#clock-now")).to_have_text("2030-01-01T09:01:30.000Z")
    page.get_by_role("button", name="Unfreeze").click()
    expect(page.locator("#clock-frozen")).to_have_text("(running)")
    clock = web.get(url + "/__mock/clock").json()
    assert clock["frozen"] is False and clock["now"] >= "2030-01-01T09:01:30"


def test_rate_limits__shown_and_changed(watched, url):
    page = watched.open()
    expect(page.get_by_label("insigner requestsPerMinute")).to_have_value("120")
    page.get_by_label("collect enabled").check()
    page.get_by_label("collect requestsPerMinute").fill("30")
    page.get_by_role("button", name="Save the rate limits").click()
    expect(page.locator("#rate-limit-result")).to_have_text("Saved.")
    assert web.get(url + "/__mock/rate-limits").json()["collect"] == {"enabled": True, "requestsPerMinute": 30}


# -- coverage and state ------------------------------------------------------------------------------
def test_coverage__the_table_with_uncovered_answers_marked(watched, url):
    web.post(url + "/v1/requests", json=COLLECT_BODY, headers=basic(COLLECT_KEY))
    page = watched.open()
    rows = page.locator("#coverage-table tbody tr")
    expect(rows).to_have_count(99)
    covered = rows.filter(has_text="POST /v1/requests").filter(has=page.locator("td", has_text=re.compile("^200$")))
    expect(covered).to_have_class("covered")
    expect(covered.locator("td").last).to_have_text("yes")
    expect(page.locator("#coverage-table tbody tr.uncovered")).to_have_count(98)
    expect(page.locator("#coverage-summary")).to_contain_text("Covered 1 of 99 documented answers (1.0%)")
    page.get_by_role("button", name="Start coverage again").click()
    expect(page.locator("#coverage-table tbody tr.uncovered")).to_have_count(99)


def test_state__counts_per_tenant(watched, url):
    web.post(url + CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))
    page = watched.open()
    org = page.locator("#state-table tbody tr", has_text="org_abc123")
    expect(org).to_contain_text("insigner")
    expected = web.get(url + "/__mock/state").json()["apis"]["insigner"]["org_abc123"]["bulkSends"]
    expect(org).to_contain_text(f"bulkSends {expected}")
    expect(page.locator("#state-table tbody tr", has_text="collect")).to_have_count(1)


# -- the control token ---------------------------------------------------------------------------------
def test_token__asked_once_kept_for_the_tab_and_nothing_shown_without_it(browser):
    server = start_serve("--control-token", "s3cret")
    try:
        web.post(server.url + CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))
        context = browser.new_context()
        watched = Watched(context.new_page(), server.url)
        watched.allow(401)
        page = watched.page
        page.goto(server.url + "/__mock/ui")
        expect(page.locator("#token-panel")).to_be_visible()
        expect(page.locator("#main")).to_be_hidden()
        expect(journal_rows(page)).to_have_count(0)  # no data without the token
        page.get_by_label("X-Mock-Token").fill("wrong")
        page.get_by_role("button", name="Use token").click()
        expect(page.locator("#token-error")).to_have_text("That token was refused.")
        page.get_by_label("X-Mock-Token").fill("s3cret")
        page.get_by_role("button", name="Use token").click()
        expect(page.locator("#main")).to_be_visible()
        expect(journal_rows(page)).to_have_count(1)
        page.reload()  # the same tab keeps it
        expect(page.locator("#main")).to_be_visible()
        expect(page.locator("#token-panel")).to_be_hidden()
        other = Watched(context.new_page(), server.url)  # another tab asks again
        other.allow(401)
        other.page.goto(server.url + "/__mock/ui")
        expect(other.page.locator("#token-panel")).to_be_visible()
        context.close()
        assert watched.problems == [] and other.problems == []
    finally:
        server.stop()


# -- keyboard and screen sizes -------------------------------------------------------------------------
def test_keyboard__every_control_labelled_reachable_and_focus_visible(watched, url):
    web.post(url + CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))
    page = watched.open()
    expect(journal_rows(page)).to_have_count(1)
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('#main input, #main select, #main button')]
            .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.textContent.trim())
            .map(e => e.outerHTML)"""
    )
    assert unnamed == []
    controls = page.evaluate(
        "() => document.querySelectorAll('#main input, #main select, #main button, #main a').length"
    )
    seen = set()
    page.locator("body").focus()
    for _ in range(controls + 5):
        page.keyboard.press("Tab")
        focused = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                const name = e.id || e.getAttribute('aria-label') || e.textContent.trim();
                return [e === document.body, name, s.outlineStyle, s.outlineWidth]; }"""
        )
        at_body, name, style, width = focused
        if at_body:  # past the last control
            break
        seen.add(name)
        assert style != "none" and width != "0px", f"{name} has no visible focus"
    for name in ("Show request 1", "filter-api", "fault-status", "clock-at", "Apply scenario collect-maintenance"):
        assert name in seen, f"{name} not reachable by Tab"
    page.get_by_role("button", name="Show request 1").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#request-detail")).to_be_visible()


# What sticks out: elements past the window's right edge, or whose content is wider than their box.
WIDER_THAN_THEIR_BOX = (
    "[...document.querySelectorAll('body *')]"
    ".filter(e => e.getBoundingClientRect().right > innerWidth + 1 || e.scrollWidth > e.clientWidth + 1)"
    ".map(e => e.tagName.toLowerCase() + '#' + e.id + ' ' + (e.textContent || '').slice(0, 30))"
)


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 800)])
def test_layout__readable_without_sideways_scrolling(watched, url, width, height):
    long_path = CREATE + "/" + "x" * 300
    web.get(url + long_path, headers=bearer(INSIGNER_KEY))
    web.post(url + CREATE, json={**EXAMPLE, "name": "y" * 200}, headers=bearer(INSIGNER_KEY))
    watched.page.set_viewport_size({"width": width, "height": height})
    page = watched.open()
    expect(journal_rows(page)).to_have_count(2)
    page.get_by_role("button", name="Show request 2").click()
    expect(page.locator("#request-detail")).to_be_visible()
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, page.evaluate(WIDER_THAN_THEIR_BOX)


# Each word of a header, button, label or heading, measured: one whose letters sit on more than
# one line was broken inside (what "Remov/e" and "Injecte d" looked like).
WORDS_BROKEN_INSIDE = """() => {
  const broken = [];
  const labels = document.querySelectorAll("h1, h2, h3, h4, th, button, label, legend, summary, nav a");
  for (const element of labels) {
    if (element.getClientRects().length === 0) continue;  // not shown
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const word of node.textContent.matchAll(/[^\\s-]+/g)) {
        const range = document.createRange();
        range.setStart(node, word.index);
        range.setEnd(node, word.index + word[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0).map(r => Math.round(r.bottom)));
        if (lines.size > 1) broken.push(element.tagName.toLowerCase() + ": " + word[0]);
      }
    }
  }
  return broken;
}"""


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (375, 800)])
def test_layout__no_header_button_or_label_breaks_inside_a_word(watched, url, width, height):
    web.post(url + CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY))
    web.post(url + "/__mock/faults", json={"api": "insigner", "status": 503, "path": "/api/v1/nothing"})
    watched.page.set_viewport_size({"width": width, "height": height})
    page = watched.open()
    expect(journal_rows(page)).to_have_count(1)
    page.get_by_role("button", name="Show request 1").click()
    expect(page.locator("#request-detail")).to_be_visible()
    broken = page.evaluate(WORDS_BROKEN_INSIDE)
    assert broken == [], broken
    scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert scroll <= inner, page.evaluate(WIDER_THAN_THEIR_BOX)


# -- browsers are not trusted callers ----------------------------------------------------------------
ATTACK_PAGE = """<!doctype html><html><body><script>
const mock = "{mock}";
const sent = [
  fetch(mock + "/__mock/faults", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}},
        body: JSON.stringify({{api: "*", status: 503}})}}),
  fetch(mock + "/__mock/clock", {{method: "POST", mode: "no-cors", headers: {{"Content-Type": "text/plain"}},
        body: JSON.stringify({{advance: 86400}})}}),
  fetch(mock + "/__mock/reset", {{method: "POST", mode: "no-cors"}}),
  fetch(mock + "/__mock/faults", {{method: "DELETE", mode: "no-cors"}}),
  fetch(mock + "/__mock/requests", {{mode: "cors"}}).then(r => r.text()).then(t => {{ window.stolen = t; }}),
];
Promise.allSettled(sent).then(results => {{
  window.results = results.map(r => r.status);
  const form = document.createElement("form");
  form.method = "POST"; form.action = mock + "/__mock/faults"; form.enctype = "text/plain"; form.target = "sink";
  const field = document.createElement("input");
  field.name = '{{"api": "*", "status": 500, "x": "'; field.value = '"}}';
  form.append(field); document.body.append(form);
  const sink = document.createElement("iframe"); sink.name = "sink";
  sink.onload = () => {{ document.title = "done"; }};
  document.body.append(sink);
  form.submit();
}});
</script></body></html>"""


def test_cross_origin_page__tries_every_write_and_changes_nothing(browser, url):
    web.post(url + "/__mock/faults", json={"api": "insigner", "status": 502, "times": 1})
    web.post(url + "/__mock/clock", json={"freeze": "2030-01-01T00:00:00Z"})
    web.get(url + CREATE, headers=bearer(INSIGNER_KEY))
    before = [web.get(url + path).json() for path in ("/__mock/faults", "/__mock/clock", "/__mock/requests")]
    page_html = ATTACK_PAGE.format(mock=url).encode()

    class Attack(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page_html)

        def log_message(self, *args):
            pass

    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Attack)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        context = browser.new_context()
        page = context.new_page()
        # Another origin: another host name and port than the mock's.
        page.goto(f"http://localhost:{other.server_address[1]}/")
        expect(page).to_have_title("done", timeout=10_000)
        assert page.evaluate("window.stolen") is None  # no CORS header: the page cannot read the journal
        context.close()
    finally:
        other.shutdown()
        other.server_close()
    after = [web.get(url + path).json() for path in ("/__mock/faults", "/__mock/clock", "/__mock/requests")]
    assert after == before


# -- deliveries ----------------------------------------------------------------------------------------
def test_deliveries__live_one_deliverys_request_and_answer_and_redeliver(watched, url):
    from mockserver.testing.receiver import WebhookReceiver

    with WebhookReceiver() as receiver:
        receiver.answer(500)  # the first attempt fails, so there is something to redeliver
        hook = {"url": receiver.url, "events": ["bulk_send.completed"]}
        declared = web.post(url + "/__mock/state/insigner/webhooks", json=hook, timeout=10)
        assert declared.status_code == 201, declared.text
        page = watched.open()
        rows = page.locator("#deliveries-table tbody tr")
        expect(rows).to_have_count(0)
        bulk = web.post(url + CREATE, json=EXAMPLE, headers=bearer(INSIGNER_KEY), timeout=10).json()["data"]
        # Live, without a reload: the failed first attempt and its retry, due a minute later.
        expect(rows).to_have_count(2, timeout=2000)
        first = rows.filter(has_text="(#1)")
        expect(first).to_contain_text("bulk_send.completed")
        expect(first.locator(".state")).to_have_text("failed")
        expect(first).to_contain_text("500")
        expect(rows.filter(has_text="(#2)").locator(".state")).to_have_text("pending")
        first.get_by_role("button").click()
        detail = page.locator("#delivery-detail")
        expect(detail).to_be_visible()
        expect(page.locator("#delivery-title")).to_contain_text("bulk_send.completed to " + declared.json()["id"])
        expect(page.locator("#delivery-summary")).to_contain_text("pending")  # its retry is due in a minute
        expect(page.locator("#delivery-headers")).to_contain_text("X-InSigner-Signature")
        expect(page.locator("#delivery-body")).to_contain_text(bulk["id"])
        expect(page.locator("#delivery-answer")).to_contain_text("500 in")
        expect(page.locator("#delivery-response")).to_have_text('{"received":true}')
        page.get_by_role("button", name="Redeliver").click()
        expect(page.locator("#delivery-result")).to_contain_text("(attempt 3)")
        expect(rows).to_have_count(3, timeout=2000)
        expect(rows.filter(has_text="(#2)").locator(".state")).to_have_text("abandoned", timeout=2000)
        expect(rows.filter(has_text="(#3)").locator(".state")).to_have_text("delivered")
        expect(page.locator("#delivery-summary")).to_contain_text("delivered", timeout=2000)
        expect(page.locator("#delivery-answer")).to_contain_text("200 in")
        delivery_id = rows.first.get_attribute("data-delivery")
        assert web.get(f"{url}/__mock/deliveries/{delivery_id}", timeout=10).json()["state"] == "delivered"
        assert [got.status for got in receiver.received] == [500, 200]
        page.get_by_role("button", name="Close the delivery").click()
        expect(detail).to_be_hidden()
        page.get_by_role("button", name="Empty the deliveries log").click()
        expect(rows).to_have_count(0, timeout=2000)


def test_request_content_is_shown_as_text_never_markup(watched, url):
    path = CREATE + "/" + quote('<script>window.__xss="path"</script><img src=x onerror=window.__xss="img">')
    web.get(url + path, headers={**bearer(INSIGNER_KEY), "X-Note": '<img src=x onerror="window.__xss=1">'})
    body = {"name": '<img src=x onerror="window.__xss=2"><script>window.__xss=3</script>', "signers": []}
    web.post(url + CREATE, json=body, headers={**bearer(INSIGNER_KEY), "X-Note": "<b>bold</b>"})
    page = watched.open()
    expect(journal_rows(page)).to_have_count(2)
    expect(journal_rows(page).last).to_contain_text("<script>")
    page.get_by_role("button", name="Show request 1").click()
    expect(page.locator("#detail-headers")).to_contain_text('<img src=x onerror="window.__xss=1">')
    page.get_by_role("button", name="Show request 2").click()
    expect(page.locator("#detail-body")).to_contain_text("<script>window.__xss=3</script>")
    expect(page.locator("#detail-headers")).to_contain_text("<b>bold</b>")
    assert page.evaluate("window.__xss") is None
    assert page.locator("#main img, #main script, #main b").count() == 0


def test_delivery_content_is_shown_as_text_never_markup(watched, url):
    answer = b'<script>window.__xss="answer"</script><img src=x onerror="window.__xss=5">'

    class Hostile(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    receiver = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        hook = {"url": f"http://127.0.0.1:{receiver.server_address[1]}/hook", "events": ["bulk_send.completed"]}
        assert web.post(url + "/__mock/state/insigner/webhooks", json=hook, timeout=10).status_code == 201
        name = '<img src=x onerror="window.__xss=6"><script>window.__xss=7</script>'
        created = web.post(url + CREATE, json={**EXAMPLE, "name": name}, headers=bearer(INSIGNER_KEY), timeout=10)
        assert created.status_code == 201, created.text
        page = watched.open()
        rows = page.locator("#deliveries-table tbody tr")
        expect(rows.locator(".state")).to_have_text(["delivered"], timeout=2000)
        rows.first.get_by_role("button").click()
        expect(page.locator("#delivery-body")).to_contain_text("<script>window.__xss=7</script>")
        expect(page.locator("#delivery-response")).to_have_text(answer.decode())
        assert page.evaluate("window.__xss") is None
        assert page.locator("#main img, #main script").count() == 0
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_without_a_browser__the_tests_fail_with_the_install_command(tmp_path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "MOCKSERVER_CHROMIUM": str(tmp_path / "no-such-chromium")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"{__file__}::test_state__counts_per_tenant"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout[-2000:]
    assert "1 error" in result.stdout and "skipped" not in result.stdout
    assert INSTALL in result.stdout
