"""Drive the verification page in Debian's chromium (Playwright), in a process of its own.

The test process is eventlet-patched (tests/conftest.py), which hangs Playwright's sync API; so the browser runs
here, started by the test as ``python -m tests.integration.signing.browser URL PDF [XML]``, printing what the page showed.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def upload(url: str, pdf: str, xml: str | None = None) -> dict[str, Any]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
            # Chromium reports what the Content-Security-Policy blocked on the console.
            blocked: list[str] = []
            page.on(
                "console",
                lambda message: (
                    blocked.append(message.text) if "Content Security Policy" in message.text else None
                ),
            )
            page.goto(url)
            title = page.locator("h1").inner_text()
            page.set_input_files("input[name=pdf]", pdf)
            if xml is not None:
                page.set_input_files("input[name=xml]", xml)
            page.click("#submit")
            page.wait_for_selector("#verdict", timeout=15000)
            return {
                "title": title,
                "verdict": page.locator("#verdict").inner_text(),
                "checks": page.locator("#checks").inner_text(),
                # The stylesheet applied: the verdict's box has its colour, not the default transparent.
                "verdict_background": page.locator("#verdict").evaluate(
                    "e => getComputedStyle(e).backgroundColor"
                ),
                "csp_blocked": blocked,
            }
        finally:
            browser.close()


if __name__ == "__main__":
    print(json.dumps(upload(*sys.argv[1:]), ensure_ascii=False))
