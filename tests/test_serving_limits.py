"""Hardening of `seqkit serve`: lone surrogates get 422, model calls stay under a token budget with small requests
served first, an optional bearer token guards the endpoints, and the port is checked before anything loads."""

import asyncio
import json
import threading
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from seqkit import Tagger
from seqkit.cli import app as cli
from seqkit.serving.app import BackgroundServer, create_app, load_models
from seqkit.serving.batching import MicroBatcher
from seqkit.serving.endpoints import MAX_BATCH_TOKENS

SENTENCE = "show me flights from boston to denver"
TOKEN = "correct-horse-battery-staple"


def post_raw(client: TestClient, path: str, body: bytes):
    """POST bytes as they are: the JSON escape of a lone surrogate cannot be written with `json=`."""
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


@pytest.fixture(scope="module")
def client(tiny_tagger_run):
    # raise_server_exceptions=False: a server error must come back as the 500 a client would see.
    with TestClient(create_app(load_models([tiny_tagger_run])), raise_server_exceptions=False) as test_client:
        yield test_client


# ---- 1. lone surrogates --------------------------------------------------------------------------------------
def test_a_lone_surrogate_in_a_text_gets_422_naming_the_text(client):
    reply = post_raw(client, "/tag", b'{"texts": ["flights to boston", "flights \\ud800 to denver"]}')
    assert reply.status_code == 422
    (error,) = reply.json()["detail"]
    assert error["loc"] == ["body", "texts", 1] and error["type"] == "string_unicode"
    assert "unicode" in error["msg"] and "\n" not in error["msg"]


@pytest.mark.parametrize(
    "body",
    [b'{"texts": "\\udfff"}', b'{"texts": ["flights"], "model": ["\\ud800"]}', b'{"te\\ud800xts": ["flights"]}'],
    ids=["not-a-list", "model-not-a-string", "misspelt-key"],
)
def test_a_lone_surrogate_echoed_in_a_422_is_still_answered(client, body):
    # Pydantic's errors echo the input; the reply must still encode (it was a 500 before).
    reply = post_raw(client, "/tag", body)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][0] == "body"


def test_json_of_the_surrogate_reply_is_parseable_by_a_strict_client(client):
    # The 422 for a lone surrogate is ASCII JSON: strict UTF-8 decoders (browsers, Go, Rust) read it too.
    reply = post_raw(client, "/tag", b'{"texts": "\\udfff"}')
    reply.content.decode("ascii")
    assert json.loads(reply.content)["detail"][0]["type"] == "list_type"


def test_a_lone_surrogate_in_a_model_name_gets_404(client):
    reply = post_raw(client, "/tag", b'{"model": "\\ud800", "texts": ["flights"]}')
    assert reply.status_code == 404 and "no model" in reply.json()["detail"]


def test_a_surrogate_pair_is_ordinary_text(client):
    reply = post_raw(client, "/tag", b'{"texts": ["flights to \\ud83d\\ude00 boston"]}')
    assert reply.status_code == 200
    assert reply.json()["results"][0]["text"] == "flights to \U0001f600 boston"


# ---- 2. a token budget per model call, small requests first ----------------------------------------------------
def padded_tokens(call: list[str]) -> int:
    """What a model pays for a call of whitespace-tokenized texts: its items times its longest item's tokens."""
    return len(call) * max(len(text.split()) for text in call)


def words(text: str) -> int:
    return len(text.split())


def model_held_by_its_first_call(answer):
    """A predict function that records its calls and holds the model in the first until `release` is set, so that
    the other requests queue up meanwhile; `started` is set once that first call runs."""
    started, release, calls = threading.Event(), threading.Event(), []

    def predict(items):
        calls.append(list(items))
        if len(calls) == 1:
            started.set()
            release.wait(5)
        return answer(items)

    return predict, started, release, calls


def test_a_small_request_waits_for_the_running_call_only_not_for_big_requests_ahead():
    predict, started, release, calls = model_held_by_its_first_call(lambda items: [words(item) for item in items])

    long_text = " ".join(["x"] * 1000)
    big = [[f"{long_text} {number}"] * 40 for number in range(3)]  # 40 texts of 1,001 tokens each

    async def scenario():
        batcher = MicroBatcher(predict, max_items=256, max_tokens=8192, tokens=words, max_wait_seconds=0.0)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(big[0]))
        await asyncio.to_thread(started.wait, 5)
        others = [asyncio.ensure_future(batcher.submit(texts)) for texts in (big[1], big[2], [SENTENCE])]
        for _ in range(3):
            await asyncio.sleep(0)  # let every submit reach the queue before the model is free again
        release.set()
        answers = await asyncio.gather(first, *others)
        await batcher.stop()
        return answers

    answers = asyncio.run(scenario())
    assert answers == [[1001] * 40] * 3 + [[7]]
    assert SENTENCE in calls[1]  # the first call after it arrived, ahead of the 72 queued long texts
    assert all(padded_tokens(call) <= 8192 for call in calls)
    assert sum(map(len, calls)) == 121


def test_an_item_over_the_budget_runs_alone_and_requests_under_it_share_calls():
    calls = []

    def predict(items):
        calls.append(list(items))
        return items

    async def scenario():
        batcher = MicroBatcher(predict, max_items=8, max_tokens=10, tokens=words, max_wait_seconds=0.05)
        batcher.start()
        answers = await asyncio.gather(
            batcher.submit(["a b", "c d"]), batcher.submit([" ".join("k" * 12)]), batcher.submit(["e f", "g h"])
        )
        await batcher.stop()
        return answers

    answers = asyncio.run(scenario())
    assert answers == [["a b", "c d"], [" ".join("k" * 12)], ["e f", "g h"]]
    assert calls == [["a b", "c d", "e f", "g h"], [" ".join("k" * 12)]]  # 4 x 2 tokens, then 12 alone


def test_a_failing_piece_of_a_split_request_fails_it_and_spares_its_neighbours():
    calls = []

    def predict(items):
        calls.append(list(items))
        if "bad" in items:
            raise ValueError("bad item")
        return [len(item) for item in items]

    async def scenario():
        batcher = MicroBatcher(predict, max_items=6, max_tokens=100, tokens=words, max_wait_seconds=0.05)
        batcher.start()
        requests = (["ab", "abc", "bad", "a"], ["abcd"] * 5)
        answers = await asyncio.gather(*(batcher.submit(items) for items in requests), return_exceptions=True)
        await batcher.stop()
        return answers, batcher.statistics

    (failed, split), statistics = asyncio.run(scenario())
    assert isinstance(failed, ValueError) and split == [4] * 5
    assert statistics.requests == 2
    # The 4 items of the request with the least work, with 2 of the other's; then each alone; then the other's rest.
    assert [len(call) for call in calls] == [6, 4, 2, 3]


def test_a_cancelled_request_stops_using_the_model():
    predict, started, release, calls = model_held_by_its_first_call(lambda items: items)

    async def scenario():
        batcher = MicroBatcher(predict, max_items=2, max_tokens=100, tokens=words, max_wait_seconds=0.0)
        batcher.start()
        big = asyncio.ensure_future(batcher.submit([str(number) for number in range(10)]))
        await asyncio.to_thread(started.wait, 5)
        big.cancel()  # the client went away
        small = asyncio.ensure_future(batcher.submit(["s"]))
        await asyncio.sleep(0)
        release.set()
        answer = await small
        await batcher.stop()
        return answer

    assert asyncio.run(scenario()) == ["s"]
    assert calls == [["0", "1"], ["s"]]


def test_tag_cuts_a_request_of_long_texts_into_calls_under_the_budget(tiny_tagger_run):
    models = load_models([tiny_tagger_run])
    batcher = models[0].batcher
    predict, calls = batcher.predict, []

    def recording(items):
        calls.append(list(items))
        return predict(items)

    batcher.predict = recording
    # Punctuation counts: a text of 1,000 tokens in 1,507 characters with only one space.
    texts = [" ".join(["flights", ",".join(["to"] * 500)])] * 20 + [SENTENCE]
    with TestClient(create_app(models)) as client:
        reply = client.post("/tag", json={"texts": texts})
    assert reply.status_code == 200
    tagged = Tagger.load(tiny_tagger_run).tag(texts[-1:])[0]
    assert reply.json()["results"][-1]["tags"] == tagged.tags
    assert [len(call) for call in calls] == [8, 8, 5]  # 8 x 1,000 tokens fit in 8,192, 9 x 1,000 do not
    assert all(len(call) * 1000 <= MAX_BATCH_TOKENS for call in calls)


# ---- 3. bearer token -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def guarded(tiny_tagger_run):
    with TestClient(create_app(load_models([tiny_tagger_run]), token=TOKEN)) as test_client:
        yield test_client


@pytest.mark.parametrize(
    "method, path", [("post", "/tag"), ("get", "/models"), ("get", "/health"), ("get", "/openapi.json")]
)
@pytest.mark.parametrize(
    "authorization",
    [None, f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}", TOKEN, "Bearer"],
    ids=["none", "longer", "shorter", "basic", "no-scheme", "empty"],
)
def test_with_a_token_every_endpoint_refuses_a_missing_or_wrong_one_with_401(guarded, method, path, authorization):
    headers = {} if authorization is None else {"Authorization": authorization}
    reply = guarded.request(method, path, json={"texts": [SENTENCE]}, headers=headers)
    assert reply.status_code == 401
    assert reply.headers["WWW-Authenticate"] == "Bearer"
    assert "token" in reply.json()["detail"]


def test_with_the_token_the_endpoints_answer(guarded):
    headers = {"Authorization": f"bearer {TOKEN}"}  # the scheme is case-insensitive (RFC 9110)
    reply = guarded.post("/tag", json={"texts": [SENTENCE]}, headers=headers)
    assert reply.status_code == 200 and reply.json()["model"] == "tiny-atis"
    assert guarded.get("/models", headers=headers).status_code == 200


def test_with_a_token_the_demo_page_itself_needs_none(guarded):
    assert guarded.get("/").status_code == 200
    assert guarded.get("/static/demo.js").status_code == 200


def test_an_oversized_body_without_the_token_is_refused_before_it_is_read(tiny_tagger_run):
    with TestClient(create_app(load_models([tiny_tagger_run]), max_body_bytes=100, token=TOKEN)) as client:
        assert client.post("/tag", json={"texts": [SENTENCE] * 50}).status_code == 401
        authorized = {"Authorization": f"Bearer {TOKEN}"}
        assert client.post("/tag", json={"texts": [SENTENCE] * 50}, headers=authorized).status_code == 413


@pytest.fixture
def recorded_serve(monkeypatch):
    """Replace the server's start by a recorder of its arguments, so that the CLI can be run to its end."""
    import seqkit.serving.app

    started = []
    monkeypatch.setattr(seqkit.serving.app, "serve", lambda *arguments: started.append(arguments))
    monkeypatch.delenv("SEQKIT_TOKEN", raising=False)
    return started


def test_serve_on_an_open_host_without_a_token_warns_naming_the_option(recorded_serve, tmp_path):
    result = CliRunner().invoke(cli, ["serve", str(tmp_path), "--host", "0.0.0.0"])
    assert result.exit_code == 0, result.output
    assert "no authentication" in result.stderr and "--token" in result.stderr and "SEQKIT_TOKEN" in result.stderr
    assert recorded_serve == [([tmp_path], "0.0.0.0", 8000, None)]


def test_serve_takes_the_token_from_the_option_or_the_environment(recorded_serve, tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["serve", str(tmp_path), "--host", "0.0.0.0", "--token", TOKEN])
    assert result.exit_code == 0 and "warning" not in result.stderr
    result = runner.invoke(cli, ["serve", str(tmp_path), "--host", "0.0.0.0"], env={"SEQKIT_TOKEN": "from-env"})
    assert result.exit_code == 0 and "warning" not in result.stderr
    assert [arguments[3] for arguments in recorded_serve] == [TOKEN, "from-env"]


def test_serve_refuses_an_empty_token(recorded_serve, tmp_path):
    result = CliRunner().invoke(cli, ["serve", str(tmp_path), "--token", " "])
    assert result.exit_code == 2 and "--token" in result.stderr and not recorded_serve


# ---- 4. the port -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "port, bound",
    [
        ("99999", "less than or equal to 65535"),
        ("65536", "less than or equal to 65535"),
        ("0", "greater than or equal to 1"),
        ("-1", "greater than or equal to 1"),
    ],
)
def test_serve_refuses_a_port_out_of_range_in_one_line(recorded_serve, tmp_path, port, bound, monkeypatch, capsys):
    from seqkit.cli import main

    monkeypatch.setattr("sys.argv", ["seqkit", "serve", str(tmp_path), "--port", port])
    with pytest.raises(SystemExit) as exit:
        main()
    assert exit.value.code == 2 and not recorded_serve
    (line,) = capsys.readouterr().err.splitlines()
    assert "Invalid value for '--port'" in line and bound in line


# ---- the demo page with a token (in headless Chromium, like tests/test_demo_page.py) ---------------------------
@pytest.mark.browser
def test_the_demo_page_sends_the_token_from_its_address(tiny_tagger_run):
    from playwright.sync_api import sync_playwright

    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.fail(f"{chromium} is missing: apt-get install -y chromium chromium-driver (.ci/run does)")
    flags = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    (expected,) = Tagger.load(tiny_tagger_run).tag([SENTENCE])
    server = BackgroundServer(create_app(load_models([tiny_tagger_run]), token=TOKEN))
    with server as url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), headless=True, args=flags)
        try:
            page = browser.new_page()
            page.goto(f"{url}/")  # no token: the page says how to give one
            page.wait_for_selector("#status:has-text('token')")
            assert "#token=" in page.inner_text("#status")
            page = browser.new_page()
            page.goto(f"{url}/#token={TOKEN}")
            page.wait_for_selector("#model option", state="attached")
            page.fill("#text", SENTENCE)
            page.click("#submit")
            page.wait_for_selector("#answer[data-state=done]", timeout=15_000)
            assert page.inner_text("#intent") == expected.intent
        finally:
            browser.close()
