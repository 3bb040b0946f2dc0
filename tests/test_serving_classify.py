"""/classify with `explain: true`: per-token contributions equal the Python API's Classifier.explain, the default
answer is unchanged (no tokens, no contributions), and the explained-item limit gives 422."""

import pytest
from fastapi.testclient import TestClient

from seqkit.predict.classifier import Classifier
from seqkit.serving.app import create_app, load_models
from seqkit.serving.endpoints import MAX_EXPLAINED_ITEMS

TEXTS = ["A warm, funny and moving film.", "Dull, slow and far too long."]


@pytest.fixture(scope="module")
def client(tiny_classifier_run):
    with TestClient(create_app(load_models([tiny_classifier_run]))) as test_client:
        yield test_client


def test_explain_answers_the_contributions_of_the_python_api(client, tiny_classifier_run):
    reply = client.post("/classify", json={"texts": TEXTS, "explain": True})
    assert reply.status_code == 200, reply.text
    classifier = Classifier.load(tiny_classifier_run)
    classified, explained = classifier.classify(TEXTS), classifier.explain(TEXTS)
    results = reply.json()["results"]
    for result, classification, explanation in zip(results, classified, explained, strict=True):
        assert {key: result[key] for key in ("text", "label", "probability", "probabilities")} == (
            classification.to_json()
        )
        assert result["label"] == explanation.label
        assert result["tokens"] == explanation.tokens
        assert result["contributions"] == explanation.contributions
        assert len(result["contributions"]) == len(result["tokens"]) > 0


def test_the_default_answer_has_no_contributions(client, tiny_classifier_run):
    reply = client.post("/classify", json={"texts": TEXTS})
    assert reply.status_code == 200, reply.text
    expected = [result.to_json() for result in Classifier.load(tiny_classifier_run).classify(TEXTS)]
    assert reply.json() == {"model": "tiny-sentiment", "results": expected}
    assert all("contributions" not in result and "tokens" not in result for result in reply.json()["results"])


def test_explaining_too_many_texts_gets_422_but_classifying_them_does_not(client):
    texts = ["a fine film"] * (MAX_EXPLAINED_ITEMS + 1)
    reply = client.post("/classify", json={"texts": texts, "explain": True})
    assert reply.status_code == 422
    assert f"at most {MAX_EXPLAINED_ITEMS} texts" in reply.json()["detail"][0]["msg"]
    assert client.post("/classify", json={"texts": texts}).status_code == 200


def test_the_schema_documents_explain_and_the_contributions(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    assert schemas["ClassifyRequest"]["properties"]["explain"]["default"] is False
    assert str(MAX_EXPLAINED_ITEMS) in schemas["ClassifyRequest"]["properties"]["explain"]["description"]
    answer = schemas["ClassifiedText"]["properties"]
    assert {"tokens", "contributions"} <= set(answer)
    assert set(schemas["ClassifiedText"]["required"]) == {"text", "label", "probability", "probabilities"}
