"""Drive the offline QR page in Debian's chromium (Playwright), network cut off, in a process of its own.

Run as ``python -m tests.integration.signing.qr_browser PAGE.html PAYLOADS.json [PHOTO…]``; prints, per payload and
then per photo (given to the page's photo input, as a phone's camera would), the verdict the page showed, and every
request it tried. A process of its own for the reason browser.py gives (eventlet).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"


def _verdict(page: Any) -> dict[str, Any]:
    # the page removes the previous verdict's code when a check starts (its CSP forbids Playwright's
    # wait_for_function, which evaluates a string)
    page.wait_for_selector("#verdict[data-code]", timeout=15000)
    return {
        "code": page.locator("#verdict").get_attribute("data-code"),
        "message": page.locator("#verdict").inner_text(),
        "summary": page.locator("#summary").inner_text(),
        "payload": page.input_value("#payload"),
    }


def check(page_path: str, payloads: list[str], photos: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            context = browser.new_context()
            context.set_offline(True)
            requests: list[str] = []
            context.on("request", lambda request: requests.append(request.url))
            page = context.new_page()
            page.goto(Path(page_path).resolve().as_uri())
            page.wait_for_selector("body[data-ready='1']", timeout=15000)
            verdicts = []
            for payload in payloads:
                page.fill("#payload", payload)
                page.click("#check")
                verdicts.append(_verdict(page))
            from_photos = []
            for photo in photos:
                page.fill("#payload", "")
                page.set_input_files("#photo", photo)
                from_photos.append(_verdict(page))
            return {
                "trust": page.locator("#trust").inner_text(),
                "verdicts": verdicts,
                "photos": from_photos,
                "requests": [u for u in requests if not u.startswith("file:")],
            }
        finally:
            browser.close()


if __name__ == "__main__":
    print(
        json.dumps(
            check(sys.argv[1], json.loads(Path(sys.argv[2]).read_text()), sys.argv[3:]), ensure_ascii=False
        )
    )
