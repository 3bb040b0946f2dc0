"""The HTTP server: /tag against the Python API, limits (413/422), model choice, schema, batching under load."""

import asyncio
import shutil
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from seqkit import Tagger
from seqkit.errors import RunDirError
from seqkit.serving.app import create_app, load_models
from seqkit.serving.batching import MicroBatcher
from seqkit.serving.endpoints import MAX_ITEMS, MAX_TEXT_CHARACTERS

TEXTS = ["show me flights from boston to denver", "fares to oslo on monday"]


@pytest.fixture(scope="module")
def client(tiny_tagger_run):
    with TestClient(create_app(load_models([tiny_tagger_run]), max_body_bytes=20_000)) as test_client:
        yield test_client


def test_tag_answers_a_batch_exactly_as_the_python_api(client, tiny_tagger_run):
    reply = client.post("/tag", json={"texts": TEXTS})
    assert reply.status_code == 200
    body = reply.json()
    assert body["model"] == "tiny-atis"
    expected = [result.to_json() for result in Tagger.load(tiny_tagger_run).tag(TEXTS)]
    assert body["results"] == expected


def test_health_and_models_list_the_loaded_model(client):
    health = client.get("/health").json()
    assert health["status"] == "ok"
    assert [(m["name"], m["task"], m["endpoint"]) for m in health["models"]] == [("tiny-atis", "slot-filling", "/tag")]
    # What the demo page needs too: the view that draws the task's answers and its example text.
    placeholder = "show me flights from boston to denver on monday"
    assert client.get("/models").json() == [
        {"name": "tiny-atis", "task": "slot-filling", "endpoint": "/tag", "view": "tagged", "placeholder": placeholder}
    ]


def test_the_openapi_schema_documents_tag_and_its_limits(client):
    schema = client.get("/openapi.json").json()
    assert "/tag" in schema["paths"] and "/health" in schema["paths"]
    texts = schema["components"]["schemas"]["TagRequest"]["properties"]["texts"]
    assert texts["maxItems"] == MAX_ITEMS
    assert texts["items"]["maxLength"] == MAX_TEXT_CHARACTERS


@pytest.mark.parametrize(
    "texts",
    [[], ["flights"] * (MAX_ITEMS + 1), ["   "], ["a" * (MAX_TEXT_CHARACTERS + 1)], "not a list"],
    ids=["empty", "too-many", "blank", "too-long", "string"],
)
def test_requests_breaking_a_limit_get_422(client, texts):
    reply = client.post("/tag", json={"texts": texts})
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][:2] == ["body", "texts"]


def test_an_oversized_body_gets_413_with_or_without_content_length(client):
    big = {"texts": ["flights to boston " * 100] * 20}  # well over the 20 kB limit of this app
    assert client.post("/tag", json=big).status_code == 413
    chunks = (b'{"texts": [' + b'"flights to boston",' * 500 for _ in range(3))
    reply = client.post("/tag", content=chunks, headers={"Content-Type": "application/json"})
    assert reply.status_code == 413
    assert "larger than 20000 bytes" in reply.json()["detail"]


def test_several_models_are_chosen_by_name(tiny_tagger_run, tmp_path):
    twin = tmp_path / "twin"
    shutil.copytree(tiny_tagger_run, twin)
    with TestClient(create_app(load_models([tiny_tagger_run, twin]))) as client:
        assert client.post("/tag", json={"texts": TEXTS}).status_code == 422  # which one?
        assert client.post("/tag", json={"model": "nope", "texts": TEXTS}).status_code == 404
        reply = client.post("/tag", json={"model": "twin", "texts": TEXTS})
        assert reply.status_code == 200 and reply.json()["model"] == "twin"


def test_loading_refuses_two_models_with_one_name(tiny_tagger_run):
    with pytest.raises(RunDirError, match="named 'tiny-atis'"):
        load_models([tiny_tagger_run, tiny_tagger_run])


def test_concurrent_requests_all_get_their_own_answers(client, tiny_tagger_run):
    texts = [f"flights from boston to denver on day {number}" for number in range(24)]
    expected = {result.text: result.to_json() for result in Tagger.load(tiny_tagger_run).tag(texts)}
    before = client.get("/health").json()["models"][0]["batching"]["requests"]
    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(lambda text: client.post("/tag", json={"texts": [text]}), texts))
    assert all(reply.status_code == 200 for reply in replies)
    answers = [reply.json()["results"][0] for reply in replies]
    # Merged requests run in batches of other sizes than the reference's one batch of 24, and the recurrent
    # kernels round differently per batch size (up to 6e-8 measured on this model): probabilities agree to float
    # precision, the rest exactly.
    probabilities = [answer.pop("intent_probability") for answer in answers]
    wanted = [dict(expected[text]) for text in texts]
    wanted_probabilities = [answer.pop("intent_probability") for answer in wanted]
    assert answers == wanted
    assert probabilities == pytest.approx(wanted_probabilities, abs=1e-6)
    assert client.get("/health").json()["models"][0]["batching"]["requests"] == before + len(texts)


def test_the_batcher_merges_requests_that_wait_while_the_model_is_busy():
    release = threading.Event()
    calls = []

    def predict(items):
        calls.append(list(items))
        if len(calls) == 1:
            release.wait(5)  # the first call holds the model while the other requests queue up
        return [item.upper() for item in items]

    async def scenario():
        batcher = MicroBatcher(predict, max_items=8, max_wait_seconds=0.0)
        batcher.start()
        first = asyncio.ensure_future(batcher.submit(["a"]))
        await asyncio.sleep(0.05)
        rest = [asyncio.ensure_future(batcher.submit([letter, letter * 2])) for letter in "bcde"]
        await asyncio.sleep(0.05)
        release.set()
        answers = [await first] + [await future for future in rest]
        await batcher.stop()
        return answers, batcher.statistics

    answers, statistics = asyncio.run(scenario())
    assert answers == [["A"], ["B", "BB"], ["C", "CC"], ["D", "DD"], ["E", "EE"]]
    assert calls == [["a"], ["b", "bb", "c", "cc", "d", "dd", "e", "ee"]]  # 4 waiting requests, one call
    assert (statistics.requests, statistics.model_calls, statistics.largest_batch) == (5, 2, 8)


def test_one_bad_request_does_not_fail_the_others_in_its_batch():
    def predict(items):
        if "bad" in items:
            raise ValueError("bad item")
        return [len(item) for item in items]

    async def scenario():
        batcher = MicroBatcher(predict, max_items=16, max_wait_seconds=0.05)
        batcher.start()
        futures = [asyncio.ensure_future(batcher.submit(items)) for items in (["ab"], ["bad"], ["abc", "d"])]
        answers = await asyncio.gather(*futures, return_exceptions=True)
        await batcher.stop()
        return answers

    good, bad, other = asyncio.run(scenario())
    assert good == [2] and other == [3, 1]
    assert isinstance(bad, ValueError)


def test_a_batch_never_exceeds_max_items():
    sizes = []

    def predict(items):
        sizes.append(len(items))
        return items

    async def scenario():
        batcher = MicroBatcher(predict, max_items=5, max_wait_seconds=0.05)
        batcher.start()
        answers = await asyncio.gather(*(batcher.submit([n] * 3) for n in range(4)))
        await batcher.stop()
        return answers

    assert asyncio.run(scenario()) == [[n] * 3 for n in range(4)]
    assert max(sizes) <= 5 and sum(sizes) == 12


def test_serve_refuses_a_missing_run_dir_in_one_line(tmp_path):
    from typer.testing import CliRunner

    from seqkit.cli import app

    result = CliRunner().invoke(app, ["serve", str(tmp_path / "absent")])
    assert result.exit_code != 0
    assert isinstance(result.exception, RunDirError) and "no such run dir" in str(result.exception)
    assert "\n" not in str(result.exception)


def test_classify_is_served_beside_tag(tiny_tagger_run, tmp_path):
    from typer.testing import CliRunner

    from seqkit.cli import app
    from seqkit.predict.classifier import Classifier

    data = Path(__file__).parent / "data" / "my_texts"
    arguments = ["train", "sentiment", "--recipe", "my_texts", "--data", str(data), "--out", str(tmp_path / "mine"),
                 "--set", "train.epochs=2"]
    trained = CliRunner().invoke(app, arguments)
    assert trained.exit_code == 0, trained.output
    texts = ["a wonderful, moving film", "dull and far too long"]
    with TestClient(create_app(load_models([tiny_tagger_run, tmp_path / "mine"]))) as client:
        reply = client.post("/classify", json={"texts": texts})
        assert reply.status_code == 200, reply.text
        expected = [result.to_json() for result in Classifier.load(tmp_path / "mine").classify(texts)]
        assert reply.json() == {"model": "mine", "results": expected}
        assert client.post("/tag", json={"texts": TEXTS}).status_code == 200
        assert client.post("/classify", json={"texts": [" "]}).status_code == 422
