"""The demo page end to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright): pick the
model, type a sentence, submit, and check the highlighted slots and the intent against the Python API.

A screenshot of the answered page is saved as a CI artifact in $SEQKIT_TEST_ARTIFACTS (default .ci/artifacts/).
"""

import os
from pathlib import Path

import pytest

from seqkit import Tagger
from seqkit.serving.app import BackgroundServer, create_app, load_models

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("SEQKIT_TEST_ARTIFACTS", Path(__file__).parents[1] / ".ci" / "artifacts"))
# Headless as root on a closed network: no sandbox, no GPU, and none of Chromium's background connections.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SENTENCE = "show me flights from boston to denver on monday"


def test_typing_a_sentence_shows_its_slots_and_intent(tiny_tagger_run, tmp_path):
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver (.ci/run does)")
    (expected,) = Tagger.load(tiny_tagger_run).tag([SENTENCE])
    with BackgroundServer(create_app(load_models([tiny_tagger_run]))) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 560})
            page.goto(url)
            page.wait_for_selector("#model option", state="attached")
            page.select_option("#model", "tiny-atis")
            page.fill("#text", SENTENCE)
            page.click("#submit")
            page.wait_for_selector("#answer[data-state=done]", timeout=15_000)
            slots = page.eval_on_selector_all(
                "#answer mark.slot",
                "marks => marks.map(mark => [mark.dataset.slot, mark.firstChild.textContent])",
            )
            assert slots  # the tiny model finds at least one slot here, so highlighting is exercised
            assert slots == [[span["type"], span["text"]] for span in expected.spans]
            shown_words = page.inner_text("#answer .sentence")
            for token in expected.tokens:
                assert token in shown_words
            assert page.inner_text("#intent") == expected.intent
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "demo_page.png"), full_page=True)
            # A blank text is refused by the server and the page says so.
            page.fill("#text", "   ")
            page.click("#submit")
            page.wait_for_selector("#answer[data-state=error]", state="attached", timeout=15_000)
            assert "error 422" in page.inner_text("#status")
        finally:
            browser.close()
    assert (ARTIFACTS / "demo_page.png").stat().st_size > 1000
