"""The server's /translate, /summarize and /answer endpoints: answers equal the Python API's, the limits give 422,
several tasks are served side by side, and concurrent requests each get their own answer."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from seqkit.predict.generation import Summarizer, Translator
from seqkit.predict.reader import Reader
from seqkit.serving.app import create_app, load_models
from seqkit.serving.endpoints import MAX_ITEMS, MAX_STORY_SENTENCES, MAX_TEXT_CHARACTERS

TEXTS = ["ant bee cat", "dog eel fox", "gnu hen ant"]
STORY = ["Mary went to the kitchen.", "John went to the garden.", "Mary went to the office."]


@pytest.fixture(scope="module")
def client(tiny_translation_run, tiny_title_run, tiny_babi_run):
    models = load_models([tiny_translation_run, tiny_title_run, tiny_babi_run])
    with TestClient(create_app(models)) as test_client:
        yield test_client


def generated_json(text, generated) -> dict:
    """What the server should answer for one output of the Python API (attention rounded to 4 decimals)."""
    attention = [[round(weight, 4) for weight in row] for row in generated.attention.tolist()]
    return {"text": text, "output": generated.text, "tokens": generated.tokens,
            "source_tokens": generated.source_tokens, "score": generated.score, "attention": attention}


def test_translate_answers_a_batch_exactly_as_the_python_api(client, tiny_translation_run):
    reply = client.post("/translate", json={"texts": TEXTS})
    assert reply.status_code == 200, reply.text
    outputs = Translator.load(tiny_translation_run).translate(TEXTS, with_attention=True)
    expected = [generated_json(text, output) for text, output in zip(TEXTS, outputs, strict=True)]
    assert reply.json() == {"model": "tiny-translation", "results": expected}
    for result in expected:
        # One attention row per output token and one for the end; each a distribution over the source tokens.
        assert len(result["attention"]) == len(result["tokens"]) + 1
        assert all(len(row) == len(result["source_tokens"]) for row in result["attention"])
        assert all(abs(sum(row) - 1) < 1e-3 for row in result["attention"])


def test_summarize_answers_exactly_as_the_python_api(client, tiny_title_run):
    reply = client.post("/summarize", json={"model": "tiny-titles", "texts": TEXTS[:2]})
    assert reply.status_code == 200, reply.text
    outputs = Summarizer.load(tiny_title_run).summarize(TEXTS[:2], with_attention=True)
    assert reply.json()["results"] == [generated_json(t, o) for t, o in zip(TEXTS[:2], outputs, strict=True)]


def test_answer_reads_stories_exactly_as_the_python_api(client, tiny_babi_run):
    questions = [{"story": STORY, "question": "Where is Mary?"}, {"story": STORY[:2], "question": "Where is John?"}]
    reply = client.post("/answer", json={"questions": questions})
    assert reply.status_code == 200, reply.text
    reader = Reader.load(tiny_babi_run)
    expected = [reader.answer(q["story"], q["question"]).to_json() for q in questions]
    found = reply.json()["results"]
    assert [(r["answer"], r["story"], r["question"]) for r in found] == [
        (r["answer"], r["story"], r["question"]) for r in expected
    ]
    # Batched with its neighbour, a question gets the same probabilities and per-hop attention as alone.
    for got, alone in zip(found, expected, strict=True):
        assert got["probability"] == pytest.approx(alone["probability"], abs=1e-6)
        assert len(got["attention"]) == reader.recipe.head.hops
        for hop, hop_alone in zip(got["attention"], alone["attention"], strict=True):
            assert hop == pytest.approx(hop_alone, abs=1e-6)


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/translate", {"texts": []}, "texts"),
        ("/translate", {"texts": ["ant"] * (MAX_ITEMS + 1)}, "texts"),
        ("/summarize", {"texts": ["a" * (MAX_TEXT_CHARACTERS + 1)]}, "texts"),
        ("/summarize", {"texts": [" "]}, "texts"),
        ("/answer", {"questions": []}, "questions"),
        ("/answer", {"questions": [{"story": [], "question": "Where is Mary?"}]}, "questions"),
        ("/answer", {"questions": [{"story": ["Mary went home."] * (MAX_STORY_SENTENCES + 1), "question": "Where?"}]},
         "questions"),
        ("/answer", {"questions": [{"story": STORY, "question": "  "}]}, "questions"),
        ("/answer", {"questions": [{"story": ["  "], "question": "Where is Mary?"}]}, "questions"),
    ],
    ids=["no-texts", "too-many", "too-long", "blank", "no-questions", "empty-story", "long-story", "blank-question",
         "blank-sentence"],
)
def test_requests_breaking_a_limit_get_422(client, path, body, field):
    reply = client.post(path, json=body)
    assert reply.status_code == 422
    assert reply.json()["detail"][0]["loc"][:2] == ["body", field]


def test_a_story_without_words_is_refused_by_the_reader_with_422(client):
    reply = client.post("/answer", json={"questions": [{"story": ["?!"], "question": "Where is Mary?"}]})
    assert reply.status_code == 422
    assert "questions[0].story_sentences[0]: a sentence needs at least one word" in reply.json()["detail"]


def test_models_health_and_schema_cover_every_task(client):
    assert {(m["task"], m["endpoint"]) for m in client.get("/models").json()} == {
        ("translation", "/translate"), ("title-generation", "/summarize"), ("babi", "/answer")
    }
    schema = client.get("/openapi.json").json()
    assert {"/translate", "/summarize", "/answer"} <= set(schema["paths"])
    story = schema["components"]["schemas"]["StoryQuestion"]["properties"]["story"]
    assert story["maxItems"] == MAX_STORY_SENTENCES
    assert "/tag" not in schema["paths"]  # no slot-filling model is loaded


def test_concurrent_translations_each_get_their_own_answer(client, tiny_translation_run):
    texts = [" ".join((a, b, "cat")) for a in ("ant", "bee", "dog", "eel") for b in ("fox", "gnu", "hen")]
    outputs = Translator.load(tiny_translation_run).translate(texts, with_attention=True)
    expected = {text: generated_json(text, output) for text, output in zip(texts, outputs, strict=True)}

    def health():
        return next(m for m in client.get("/health").json()["models"] if m["task"] == "translation")["batching"]

    before = health()
    with ThreadPoolExecutor(max_workers=6) as pool:
        replies = list(pool.map(lambda text: client.post("/translate", json={"texts": [text]}), texts))
    # Batched with other requests the floats may move in the last bits; the outputs themselves may not.
    for reply, text in zip(replies, texts, strict=True):
        (found,) = reply.json()["results"]
        assert {**found, "score": None, "attention": None} == {**expected[text], "score": None, "attention": None}
        assert found["score"] == pytest.approx(expected[text]["score"], abs=1e-5)
        for row, expected_row in zip(found["attention"], expected[text]["attention"], strict=True):
            assert row == pytest.approx(expected_row, abs=2e-4)
    after = health()
    assert after["requests"] - before["requests"] == len(texts)
