"""Drive the verification page in Debian's chromium (Playwright), in a process of its own.

The test process is eventlet-patched (tests/conftest.py), which hangs Playwright's sync API; so the browser runs
here, started by the test as ``python -m tests.signing.browser URL PDF [XML]``, printing what the page showed.
"""

from __future__ import annotations

import json
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def upload(url: str, pdf: str, xml: str | None = None) -> dict[str, str]:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page()
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
            }
        finally:
            browser.close()


if __name__ == "__main__":
    print(json.dumps(upload(*sys.argv[1:]), ensure_ascii=False))
