"""The demo page end to end in headless Chromium (Debian's /usr/bin/chromium, driven by Playwright): pick the
model, type a sentence, submit, and check the highlighted slots and the intent against the Python API.

A screenshot of the answered page is saved as a CI artifact in $SEQKIT_TEST_ARTIFACTS (default .ci/artifacts/).
"""

import contextlib
import os
import re
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
# Deselected by default (pyproject's addopts): Chromium comes from Debian, which a plain pip install lacks.
pytestmark = pytest.mark.browser


@contextlib.contextmanager
def demo_page(run_dirs: list[Path], height: int):
    """The demo page of a server for `run_dirs`, open in headless Chromium once the model list has loaded."""
    from playwright.sync_api import sync_playwright

    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver (.ci/run does)")
    with BackgroundServer(create_app(load_models(run_dirs))) as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": height})
            page.goto(url)
            page.wait_for_selector("#model option", state="attached")
            yield page
        finally:
            browser.close()


def ask(page, model: str, text: str) -> None:
    """Pick `model`, type `text` and wait until the page has drawn the answer."""
    page.select_option("#model", model)
    page.fill("#text", text)
    page.click("#submit")
    page.wait_for_selector("#answer[data-state=done]", timeout=15_000)


def test_typing_a_sentence_shows_its_slots_and_intent(tiny_tagger_run, tmp_path):
    (expected,) = Tagger.load(tiny_tagger_run).tag([SENTENCE])
    with demo_page([tiny_tagger_run], height=560) as page:
        ask(page, "tiny-atis", SENTENCE)
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
    assert (ARTIFACTS / "demo_page.png").stat().st_size > 1000


def weight_rows(page, table: str) -> list:
    """A weight table's body as [row label, [weights]] per row (the weights as sent by the server)."""
    return page.eval_on_selector_all(
        f"{table} tr:not(:first-of-type)",
        "rows => rows.map(row => [row.querySelector('th').textContent,"
        " [...row.querySelectorAll('td')].map(cell => Number(cell.dataset.weight))])",
    )


def test_a_translation_shows_its_heatmap_and_a_story_its_hop_table(tiny_translation_run, tiny_babi_run):
    from seqkit.predict.generation import Translator
    from seqkit.predict.reader import Reader

    source, story, question = "ant bee cat", ["Mary went to the kitchen.", "John went to the garden."], "Where is Mary?"
    (translation,) = Translator.load(tiny_translation_run).translate([source], with_attention=True)
    read = Reader.load(tiny_babi_run).answer(story, question)
    with demo_page([tiny_translation_run, tiny_babi_run], height=700) as page:
        page.select_option("#model", "tiny-translation")
        assert page.is_hidden("#question")  # only a bAbI model asks for a question
        page.fill("#text", source)
        page.click("#submit")
        page.wait_for_selector("#answer[data-state=done]", timeout=15_000)
        assert page.inner_text("#output") == translation.text
        header = page.eval_on_selector_all("#heatmap tr:first-of-type th", "cells => cells.map(c => c.textContent)")
        assert header[1:] == translation.source_tokens
        rows = weight_rows(page, "#heatmap")
        assert [label for label, _ in rows] == [*translation.tokens, "</s>"]
        shown = [weights for _, weights in rows]
        assert shown == [[round(weight, 4) for weight in row] for row in translation.attention.tolist()]
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo_translation.png"), full_page=True)

        page.select_option("#model", "tiny-babi")
        page.fill("#text", "\n".join(story))
        page.fill("#question", question)
        page.click("#submit")
        page.wait_for_selector("#answer[data-state=done]", timeout=15_000)
        assert page.inner_text("#read-answer") == read.answer
        table = weight_rows(page, "#hops")
        assert [sentence for sentence, _ in table] == story
        by_sentence = [[hop[index] for hop in read.attention] for index in range(len(story))]
        for (_, weights), expected in zip(table, by_sentence, strict=True):
            assert weights == pytest.approx(expected, abs=1e-6)
        page.screenshot(path=str(ARTIFACTS / "demo_babi.png"), full_page=True)


def test_a_review_shows_its_label_and_each_word_shaded_by_its_contribution(tiny_classifier_run):
    from seqkit.predict.classifier import Classifier

    review = "A warm, funny and moving film. Dull in places."
    (explained,) = Classifier.load(tiny_classifier_run).explain([review])
    with demo_page([tiny_classifier_run], height=420) as page:
        ask(page, "tiny-sentiment", review)
        assert page.inner_text("#label") == explained.label
        words = page.eval_on_selector_all(
            "#contributions .word",
            "words => words.map(w => [w.textContent, Number(w.dataset.contribution), w.dataset.side,"
            " getComputedStyle(w).backgroundColor, w.title])",
        )
        assert [word[0] for word in words] == explained.tokens
        largest = max(abs(score) for score in explained.contributions)
        for (_, score, side, colour, title), expected in zip(words, explained.contributions, strict=True):
            assert score == pytest.approx(expected, abs=1e-6)
            # Green for the label, red against it; the opacity is the score's share of the largest one.
            assert side == ("for" if expected > 0 else "against" if expected < 0 else "neither")
            red, green, blue, *alpha = map(float, re.findall(r"[\d.]+", colour))  # rgb(...) when fully opaque
            assert (red, green, blue) == ((22, 163, 74) if expected >= 0 else (220, 38, 38))
            assert (alpha[0] if alpha else 1.0) == pytest.approx(abs(expected) / largest, abs=0.01)
            assert title.startswith(f"{expected:+.4f}") and explained.label in title
        assert {"for", "against"} <= {word[2] for word in words}  # both colours are exercised
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "demo_sentiment.png"), full_page=True)
    assert (ARTIFACTS / "demo_sentiment.png").stat().st_size > 1000
