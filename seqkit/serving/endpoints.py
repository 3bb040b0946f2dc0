"""How each task is served: ENDPOINTS, built from the tasks' own declarations, and the schemas they name.

A task declares its endpoint (seqkit/tasks/base.py: the path, the summary and a schema kind) and the seqkit.predict
class that serves it; this module holds one entry of SCHEMAS per schema kind: the pydantic models of one request
and of one answered item (they become the OpenAPI schema and the 422 checks) and how a batch of request items
becomes a batch of JSON answers. ENDPOINTS joins the two for every task in TASKS, so a new task that answers
like an existing one (another tagging or classification task) is served without a line here, and a new kind of
answer is one more SCHEMAS entry. The server (seqkit/serving/app.py) knows nothing else about tasks.

Limits live in the request models, so the schema documents them and FastAPI answers 422 when a request
breaks one: at most MAX_ITEMS items per request, each at most MAX_TEXT_CHARACTERS characters and not blank
(a bAbI story: at most MAX_STORY_SENTENCES such sentences); pydantic's `str` also refuses a lone UTF-16
surrogate, which JSON can spell (`"\\ud800"`) but which is no character. A /classify request that asks for
explanations (`explain: true`) may hold at most MAX_EXPLAINED_ITEMS texts: each costs a backward pass; a /score
request may ask to continue each text by at most MAX_SAMPLED_WORDS words.

Each endpoint also says how many tokens an item holds, so that batching can keep every model call under
MAX_BATCH_TOKENS padded tokens (see seqkit/serving/batching.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, Field, model_validator

from seqkit.registry import lookup
from seqkit.tasks import TASKS, Task

MAX_ITEMS = 256
MAX_TEXT_CHARACTERS = 2_000
MAX_STORY_SENTENCES = 200
MAX_EXPLAINED_ITEMS = 32
# Words a /score request may ask to draw after each text: each one is a model call over the text so far.
MAX_SAMPLED_WORDS = 50
# Items x longest item's tokens per model call. 256 texts of 1,000 tokens took 21 s in one call, so
# about 0.7 s at this size; ATIS-like requests (256 texts of at most ~30 tokens) still run in one call.
MAX_BATCH_TOKENS = 8_192

# Words and single punctuation marks: at least as many tokens as the word tokenizer finds (it joins `a.m.`), at
# a quarter of its cost (this runs in the event loop, up to MAX_ITEMS x MAX_TEXT_CHARACTERS per request).
_TOKEN = re.compile(r"\w+|[^\w\s]")


def count_tokens(text: str) -> int:
    return len(_TOKEN.findall(text))


def _not_blank(text: str) -> str:
    if not text.strip():
        raise ValueError("empty text, nothing to process")
    return text


Text = Annotated[str, Field(max_length=MAX_TEXT_CHARACTERS), AfterValidator(_not_blank)]


# ---- tagging (slot filling) -----------------------------------------------------------------------------
class TagRequest(BaseModel):
    """Texts to tag with one loaded tagging model (the only one when `model` is left out)."""

    model: str | None = Field(default=None, description="Name of a loaded model (see /models).")
    texts: list[Text] = Field(min_length=1, max_length=MAX_ITEMS)


class Span(BaseModel):
    type: str
    start: int = Field(description="Index of the span's first token.")
    end: int = Field(description="Index one past the span's last token.")
    start_char: int = Field(description="Offset in the text of the span's first character.")
    end_char: int = Field(description="Offset in the text one past the span's last character.")
    text: str = Field(description="The span as written in the text.")


class TaggedText(BaseModel):
    text: str
    tokens: list[str]
    tags: list[str]
    spans: list[Span]
    intent: str | None
    intent_probability: float | None


def _tag(tagger, texts: list[str]) -> list[dict]:
    return [result.to_json() for result in tagger.tag(texts)]


# ---- classification (sentiment) -------------------------------------------------------------------------
class ClassifyRequest(BaseModel):
    """Texts to classify with one loaded classification model (the only one when `model` is left out)."""

    model: str | None = Field(default=None, description="Name of a loaded model (see /models).")
    texts: list[Text] = Field(min_length=1, max_length=MAX_ITEMS)
    explain: bool = Field(
        default=False,
        description="Also answer each text's tokens and their contributions to the predicted label (gradient x "
        f"input, see seqkit/viz/explain.py); at most {MAX_EXPLAINED_ITEMS} texts per request then.",
    )

    @model_validator(mode="after")
    def _few_enough_to_explain(self) -> ClassifyRequest:
        if self.explain and len(self.texts) > MAX_EXPLAINED_ITEMS:
            raise ValueError(f"explain: true takes at most {MAX_EXPLAINED_ITEMS} texts, got {len(self.texts)}")
        return self


class ClassifiedText(BaseModel):
    text: str
    label: str
    probability: float
    probabilities: dict[str, float]
    # Only present when the request asked to explain.
    tokens: list[str] | None = Field(default=None, description="The tokens the model read (explain: true only).")
    contributions: list[float] | None = Field(
        default=None,
        description="One score per token: positive speaks for the predicted label, negative against it "
        "(explain: true only).",
    )


@dataclass(frozen=True)
class ClassifyItem:
    """One text of a /classify request, remembering whether its request asked to explain it."""

    text: str
    explain: bool


def _classify_items(request: ClassifyRequest) -> list[ClassifyItem]:
    return [ClassifyItem(text, request.explain) for text in request.texts]


def _classify_item_tokens(item: ClassifyItem) -> int:
    return count_tokens(item.text)


def _classify(classifier, items: list[ClassifyItem]) -> list[dict]:
    # The whole batch is classified at once as before; only the texts that asked are explained, in one more call.
    results = [result.to_json() for result in classifier.classify([item.text for item in items])]
    explained = [index for index, item in enumerate(items) if item.explain]
    if explained:
        explanations = classifier.explain([items[index].text for index in explained])
        for index, explanation in zip(explained, explanations, strict=True):
            results[index].update(tokens=explanation.tokens, contributions=explanation.contributions)
    return results


# ---- generation (translation and title generation) ------------------------------------------------------
class GenerateRequest(BaseModel):
    """Texts to translate or title with one loaded model (the only one when `model` is left out).

    Outputs are searched with the model's own recipe settings (head.beam, head.max_length_ratio).
    """

    model: str | None = Field(default=None, description="Name of a loaded model (see /models).")
    texts: list[Text] = Field(min_length=1, max_length=MAX_ITEMS)


class GeneratedText(BaseModel):
    text: str = Field(description="The input text.")
    output: str = Field(description="The generated text (a translation, or a title).")
    tokens: list[str] = Field(description="The output's tokens (subword pieces or words).")
    source_tokens: list[str] = Field(description="The input's tokens, as the encoder read them.")
    score: float = Field(description="The search's score of the output (a log-probability, length-normalised).")
    attention: list[list[float]] = Field(
        description="Attention (len(tokens) + 1, len(source_tokens)): one row per output token, then the end of "
        "the output; each row sums to 1 over the source tokens. Weights rounded to 4 decimals."
    )


def _generated_json(text: str, generated) -> dict:
    return {
        "text": text,
        "output": generated.text,
        "tokens": generated.tokens,
        "source_tokens": generated.source_tokens,
        "score": generated.score,
        "attention": [[round(weight, 4) for weight in row] for row in generated.attention.tolist()],
    }


def _generate(generator, texts: list[str]) -> list[dict]:
    # `generate` is what Translator.translate and Summarizer.summarize answer, for any generation predictor.
    outputs = generator.generate(texts, with_attention=True)
    return [_generated_json(text, output) for text, output in zip(texts, outputs, strict=True)]


# ---- reading (bAbI question answering) ------------------------------------------------------------------
class StoryQuestion(BaseModel):
    story: list[Text] = Field(min_length=1, max_length=MAX_STORY_SENTENCES, description="The story, one sentence each.")
    question: Text


class AnswerRequest(BaseModel):
    """Stories with a question each, for one loaded bAbI model (the only one when `model` is left out)."""

    model: str | None = Field(default=None, description="Name of a loaded model (see /models).")
    questions: list[StoryQuestion] = Field(min_length=1, max_length=MAX_ITEMS)


class AnsweredQuestion(BaseModel):
    answer: str
    probability: float
    attention: list[list[float]] = Field(
        description="Per hop, the weight on each story sentence (0 for sentences older than the memory window)."
    )
    story: list[str]
    question: str


def _story_tokens(question: StoryQuestion) -> int:
    return sum(map(count_tokens, question.story)) + count_tokens(question.question)


def _answer(reader, questions: list[StoryQuestion]) -> list[dict]:
    answers = reader.answer_many([(question.story, question.question) for question in questions])
    return [answer.to_json() for answer in answers]


# ---- scoring (language models) --------------------------------------------------------------------------
class ScoreRequest(BaseModel):
    """Sentences to score with one loaded language model (the only one when `model` is left out); with
    `sample_words`, each sentence is also continued by that many words at most, drawn from the model."""

    model: str | None = Field(default=None, description="Name of a loaded model (see /models).")
    texts: list[Text] = Field(min_length=1, max_length=MAX_ITEMS)
    sample_words: int = Field(
        default=0, ge=0, le=MAX_SAMPLED_WORDS, description="Continue each text by up to this many words (0: none)."
    )
    temperature: float = Field(default=1.0, gt=0, le=100, description="Below 1 sharpens the draws, above 1 flattens.")
    seed: int = Field(default=0, ge=0, lt=2**63, description="The same seed draws the same words.")


class Continuation(BaseModel):
    words: list[str] = Field(description="The words drawn after the text.")
    text: str = Field(description="The text's tokens and the words drawn, joined by spaces.")
    ended: bool = Field(description="Whether the model drew the end of the sentence before sample_words.")


class ScoredText(BaseModel):
    text: str
    tokens: list[str] = Field(description="The tokens the model read.")
    log_probability: float = Field(description="Natural-log probability of the tokens and the sentence's end.")
    perplexity: float = Field(description="exp(-log_probability / (len(tokens) + 1)).")
    token_log_probabilities: list[float] = Field(description="One per token, then one for the end.")
    continuation: Continuation | None = Field(default=None, description="Only when sample_words is above 0.")


@dataclass(frozen=True)
class ScoreItem:
    """One text of a /score request, with its request's sampling settings."""

    text: str
    sample_words: int
    temperature: float
    seed: int


def _score_items(request: ScoreRequest) -> list[ScoreItem]:
    return [ScoreItem(text, request.sample_words, request.temperature, request.seed) for text in request.texts]


def _score_item_tokens(item: ScoreItem) -> int:
    return count_tokens(item.text) + item.sample_words


def _score(language_model, items: list[ScoreItem]) -> list[dict]:
    results = [result.to_json() for result in language_model.score([item.text for item in items])]
    for result, item in zip(results, items, strict=True):
        if item.sample_words:
            sample = language_model.sample(item.text, item.sample_words, item.temperature, item.seed)
            result["continuation"] = {"words": sample.words, "text": sample.text, "ended": sample.ended}
    return results


# ---- the table ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Schema:
    """One kind of request and answer. `items_field` names the request's list of items that batching merges;
    `items`, when given, turns a request into those items instead (so that a per-request option travels with each
    item); `tokens` counts one item's tokens (for the batches' token budget); `predict` answers a batch of items
    with a loaded predictor."""

    request: type[BaseModel]
    items_field: str
    answer: type[BaseModel]
    predict: Callable[[Any, list], list[dict]]
    items: Callable[[BaseModel], list] | None = None
    tokens: Callable[[Any], int] = count_tokens


# Keyed by the schema kind that a task's endpoint declares (seqkit/tasks/base.py).
SCHEMAS: dict[str, Schema] = {
    "tagging": Schema(TagRequest, "texts", TaggedText, _tag),
    "classification": Schema(
        ClassifyRequest, "texts", ClassifiedText, _classify, _classify_items, _classify_item_tokens
    ),
    "generation": Schema(GenerateRequest, "texts", GeneratedText, _generate),
    "reading": Schema(AnswerRequest, "questions", AnsweredQuestion, _answer, tokens=_story_tokens),
    "scoring": Schema(ScoreRequest, "texts", ScoredText, _score, _score_items, _score_item_tokens),
}


@dataclass(frozen=True)
class Endpoint:
    """How one task is served: its path and summary, its schema, and how to load its predictor from a run dir."""

    path: str
    summary: str
    request: type[BaseModel]
    items_field: str
    answer: type[BaseModel]
    load: Callable[[Path], Any]
    predict: Callable[[Any, list], list[dict]]
    items: Callable[[BaseModel], list] | None = None
    tokens: Callable[[Any], int] = count_tokens


def _loader(task_name: str) -> Callable[[Path], Any]:
    def load(run_dir: Path):
        from seqkit.predict.registry import predictor_of

        return predictor_of(task_name).load(run_dir)

    return load


def endpoint_of(task: Task) -> Endpoint:
    """The Endpoint that serves `task`, from its declarations; an unknown schema kind is a ConfigError naming it."""
    declared = task.endpoint
    schema = lookup(SCHEMAS, declared.schema, "schema kind", f"the {task.name} task's endpoint")
    return Endpoint(
        declared.path, declared.summary, schema.request, schema.items_field, schema.answer, _loader(task.name),
        schema.predict, schema.items, schema.tokens,
    )


def build_endpoints(tasks: dict[str, Task]) -> dict[str, Endpoint]:
    """Task name -> Endpoint for every task that declares one; two tasks on one path is an error."""
    endpoints: dict[str, Endpoint] = {}
    for name, task in tasks.items():
        if task.endpoint is None:
            continue
        endpoint = endpoint_of(task)
        taken = next((other for other, known in endpoints.items() if known.path == endpoint.path), None)
        if taken is not None:
            raise ValueError(f"tasks {taken!r} and {name!r} both declare the endpoint {endpoint.path}")
        endpoints[name] = endpoint
    return endpoints


ENDPOINTS: dict[str, Endpoint] = build_endpoints(TASKS)
