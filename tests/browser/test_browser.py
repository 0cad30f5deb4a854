"""A person uses Trace in a real browser (Debian's chromium, through Playwright)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import EMAIL, PASSWORD, LiveServer
from playwright.sync_api import Browser, Page, expect, sync_playwright

from trace_core.testing.images import png_bytes

pytestmark = pytest.mark.slow


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Browser]:
    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        yield launched
        launched.close()


def _watch(page: Page) -> list[str]:
    """Collect console errors (a CSP violation by our own pages would show here)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("dialog", lambda d: d.accept())
    return errors


def _sign_in(page: Page, server: LiveServer) -> None:
    page.goto(server.url + "/")
    expect(page).to_have_url(re.compile(r"/signin\?next="))
    page.fill("#email", EMAIL)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(server.url + "/home")
    expect(page.locator("h1")).to_contain_text("Hello, Ada")


def test_a_person_keeps_notes_in_the_browser(browser: Browser, live_server: LiveServer) -> None:
    server = live_server
    context = browser.new_context()
    page = context.new_page()
    errors = _watch(page)
    _sign_in(page, server)

    # A stream with statuses.
    page.click("text=New stream")
    page.fill("#name", "Reading")
    page.fill("#statuses", "to read\nreading\ndone")
    page.fill("#default_status", "to read")
    page.check("input[name=use_rating]")
    page.click("text=Create stream")
    expect(page.locator("h1")).to_have_text("Reading")

    # An entry in it, with a live preview (htmx, under the strict CSP).
    page.click("text=New entry >> nth=-1")
    page.fill("#title", "Dune")
    page.fill("#content", "A *desert* planet and lighthouse keepers")
    expect(page.locator("#preview em")).to_have_text("desert")
    page.select_option("#status", "reading")
    page.fill("#rating", "4.5")
    page.fill("#tags", "scifi, classics")
    page.click("button[value=save]")
    expect(page.locator("h1")).to_have_text("Dune")
    expect(page.locator(".rating")).to_have_text("★★★★½")
    expect(page.locator("#entry-body em")).to_have_text("desert")
    entry_url = page.url

    # An image: chosen with the file picker, then shown.
    page.set_input_files(
        "#file", files=[{"name": "cover.png", "mimeType": "image/png", "buffer": png_bytes(40, 30)}]
    )
    page.click("#upload-form button[type=submit]")
    image = page.locator("img[alt='cover.png']")
    expect(image).to_be_visible()
    assert image.evaluate("img => img.complete && img.naturalWidth") == 40
    # ... and one pasted (the page sends it through the same form).
    pasted = list(png_bytes(20, 10, seed=1))
    page.evaluate(
        """bytes => {
            const file = new File([new Uint8Array(bytes)], "pasted.png", {type: "image/png"});
            const data = new DataTransfer();
            data.items.add(file);
            document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: data}));
        }""",
        pasted,
    )
    expect(page.locator("img[alt='pasted.png']")).to_be_visible()
    # ... and one dropped on the page.
    page.evaluate(
        """bytes => {
            const file = new File([new Uint8Array(bytes)], "dropped.png", {type: "image/png"});
            const data = new DataTransfer();
            data.items.add(file);
            document.dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
        }""",
        list(png_bytes(12, 12, seed=2)),
    )
    expect(page.locator("img[alt='dropped.png']")).to_be_visible()

    # Edit.
    page.get_by_role("link", name="Edit", exact=True).click()
    page.fill("#content", "A desert planet, edited")
    page.click("button[value=save]")
    expect(page.locator("#entry-body")).to_contain_text("edited")

    # A conflict from a second tab: nothing is lost, the person chooses.
    first = page
    first.get_by_role("link", name="Edit", exact=True).click()
    second = context.new_page()
    _watch(second)
    second.goto(entry_url + "/edit")
    second.fill("#content", "Saved in the second tab")
    second.click("button[value=save]")
    expect(second.locator("#entry-body")).to_contain_text("second tab")
    first.fill("#content", "Saved in the first tab")
    first.click("button[value=save]")
    expect(first.locator("h1")).to_have_text("This entry changed while you edited it")
    expect(first.locator(".saved")).to_contain_text("second tab")
    expect(first.locator("pre.diff")).to_contain_text("+ Saved in the first tab")
    first.click("text=Save my version")
    expect(first.locator("#entry-body")).to_contain_text("first tab")
    second.close()

    # Search and open a hit.
    page.goto(server.url + "/search?q=first")
    page.click("ol.hits a")
    expect(page).to_have_url(entry_url)

    # Restore an older version from the history.
    page.get_by_role("link", name="History", exact=True).click()
    version = page.locator("ol.versions > li", has_text="+ A desert planet, edited")
    version.get_by_role("button", name=re.compile(r"Restore version \d+")).click()
    expect(page.locator("#entry-body")).to_contain_text("edited")

    # Delete, then restore from the trash.
    page.click("button:has-text('Delete')")
    expect(page).to_have_url(server.url + "/trash")
    expect(page.locator("ul.entries")).to_contain_text("Dune")
    page.click("button:has-text('Restore')")
    expect(page).to_have_url(entry_url)

    # An API key: created, shown once with configurations, then revoked after a confirmation.
    page.goto(server.url + "/settings/account")
    page.click("nav.tabs >> text=Integrations")
    page.fill("#key-name", "Laptop")
    page.check("#key-full")
    page.click("text=Create key")
    secret = page.locator("p.secret").inner_text()
    assert secret.startswith("trace_")
    expect(page.locator("pre.config").first).to_contain_text(secret)
    page.goto(server.url + "/settings/integrations")
    page.click("a[aria-label='Revoke Laptop']")
    page.click("text=Revoke key")
    expect(page.locator("table")).to_contain_text("revoked")

    assert [e for e in errors if "Content Security Policy" in e] == []
    context.close()


def test_the_pages_fit_a_phone(browser: Browser, live_server: LiveServer, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=1)
    page = context.new_page()
    _watch(page)
    _sign_in(page, live_server)
    page.click("text=New entry >> nth=0")
    page.fill("#title", "A title long enough to wrap on a narrow phone screen, surely")
    page.fill("#content", "word " * 200 + "\n\n`" + "x" * 300 + "`")
    page.fill("#tags", "one, two, three")
    page.click("button[value=save]")
    for path in ("", "/edit", "/history"):
        page.goto(
            page.url.split("/entries/")[0]
            + "/entries/"
            + page.url.split("/entries/")[1].split("/")[0]
            + path
        )
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    for path in ("/home", "/search?q=word", "/settings/account", "/settings/integrations"):
        page.goto(live_server.url + path)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, (path, width)
    page.goto(live_server.url + "/home")
    # By keyboard: the first Tab reaches "Skip to content", then the menu, in order.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Trace"
    shot = tmp_path / "home-390.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 0
    context.close()


def test_the_browsers_time_zone_is_proposed_on_first_sign_in(
    browser: Browser, live_server: LiveServer
) -> None:
    context = browser.new_context(timezone_id="Europe/Paris")
    page = context.new_page()
    _watch(page)
    _sign_in(page, live_server)
    proposal = page.locator("#tz-proposal")
    expect(proposal).to_be_visible()
    expect(proposal).to_contain_text("Europe/Paris")
    page.click("text=Use my time zone")
    expect(page.locator(".notice")).to_contain_text("Time zone set to Europe/Paris")
    page.goto(live_server.url + "/home")
    expect(page.locator("#tz-proposal")).to_have_count(0)
    context.close()
