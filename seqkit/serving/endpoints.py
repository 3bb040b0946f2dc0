"""The table that plugs each task into the server: task name -> endpoint, request/response models, predictor.

Adding a task to `seqkit serve` is one entry in ENDPOINTS: the path it answers on, the pydantic models of one
request and of one answered item (they become the OpenAPI schema and the 422 checks), how to load its
predictor from a run dir, and how a batch of request items becomes a batch of JSON answers. The server
(seqkit/serving/app.py) knows nothing else about tasks.

Limits live in the request models, so the schema documents them and FastAPI answers 422 when a request
breaks one: at most MAX_ITEMS items per request, each at most MAX_TEXT_CHARACTERS characters and not blank.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field

MAX_ITEMS = 256
MAX_TEXT_CHARACTERS = 2_000


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty text, nothing to process")
    return text


Text = Annotated[str, Field(max_length=MAX_TEXT_CHARACTERS), AfterValidator(_not_blank)]


# ---- slot filling ---------------------------------------------------------------------------------------
class TagRequest(BaseModel):
    """Texts to tag with one loaded slot-filling model (the only one when `model` is left out)."""

    model: str | None = Field(default=None, description="Name of a loaded model (see /models).")
    texts: list[Text] = Field(min_length=1, max_length=MAX_ITEMS)


class Span(BaseModel):
    type: str
    start: int = Field(description="Index of the span's first token.")
    end: int = Field(description="Index one past the span's last token.")
    text: str


class TaggedText(BaseModel):
    text: str
    tokens: list[str]
    tags: list[str]
    spans: list[Span]
    intent: str | None
    intent_probability: float | None


def _load_tagger(run_dir: Path):
    from seqkit.api import Tagger

    return Tagger.load(run_dir)


def _tag(tagger, texts: list[str]) -> list[dict]:
    return [result.to_json() for result in tagger.tag(texts)]


# ---- sentiment ------------------------------------------------------------------------------------------
class ClassifyRequest(BaseModel):
    """Texts to classify with one loaded sentiment model (the only one when `model` is left out)."""

    model: str | None = Field(default=None, description="Name of a loaded model (see /models).")
    texts: list[Text] = Field(min_length=1, max_length=MAX_ITEMS)


class ClassifiedText(BaseModel):
    text: str
    label: str
    probability: float
    probabilities: dict[str, float]


def _load_classifier(run_dir: Path):
    from seqkit.api import Classifier

    return Classifier.load(run_dir)


def _classify(classifier, texts: list[str]) -> list[dict]:
    return [result.to_json() for result in classifier.classify(texts)]


# ---- the table ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """How one task is served. `items_field` names the request's list of items that batching merges."""

    path: str
    summary: str
    request: type[BaseModel]
    items_field: str
    answer: type[BaseModel]
    load: Callable[[Path], Any]
    predict: Callable[[Any, list], list[dict]]


# Translation (/translate), title generation (/summarize) and bAbI (/answer) join here, one entry each.
ENDPOINTS: dict[str, Endpoint] = {
    "slot-filling": Endpoint("/tag", "Tag slots and the intent", TagRequest, "texts", TaggedText, _load_tagger, _tag),
    "sentiment": Endpoint(
        "/classify", "Classify texts", ClassifyRequest, "texts", ClassifiedText, _load_classifier, _classify
    ),
}
