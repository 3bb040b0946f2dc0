"""The table that plugs each task into the server: task name -> endpoint, request/response models, predictor.

Adding a task to `seqkit serve` is one entry in ENDPOINTS: the path it answers on, the pydantic models of one
request and of one answered item (they become the OpenAPI schema and the 422 checks), how to load its
predictor from a run dir, and how a batch of request items becomes a batch of JSON answers. The server
(seqkit/serving/app.py) knows nothing else about tasks.

Limits live in the request models, so the schema documents them and FastAPI answers 422 when a request
breaks one: at most MAX_ITEMS items per request, each at most MAX_TEXT_CHARACTERS characters and not blank
(a bAbI story: at most MAX_STORY_SENTENCES such sentences); pydantic's `str` also refuses a lone UTF-16
surrogate, which JSON can spell (`"\\ud800"`) but which is no character. A /classify request that asks for
explanations (`explain: true`) may hold at most MAX_EXPLAINED_ITEMS texts: each costs a backward pass.

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

MAX_ITEMS = 256
MAX_TEXT_CHARACTERS = 2_000
MAX_STORY_SENTENCES = 200
MAX_EXPLAINED_ITEMS = 32
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


# ---- slot filling ---------------------------------------------------------------------------------------
class TagRequest(BaseModel):
    """Texts to tag with one loaded slot-filling model (the only one when `model` is left out)."""

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


def _load_classifier(run_dir: Path):
    from seqkit.api import Classifier

    return Classifier.load(run_dir)


def _classify(classifier, items: list[ClassifyItem]) -> list[dict]:
    # The whole batch is classified at once as before; only the texts that asked are explained, in one more call.
    results = [result.to_json() for result in classifier.classify([item.text for item in items])]
    explained = [index for index, item in enumerate(items) if item.explain]
    if explained:
        explanations = classifier.explain([items[index].text for index in explained])
        for index, explanation in zip(explained, explanations, strict=True):
            results[index].update(tokens=explanation.tokens, contributions=explanation.contributions)
    return results


# ---- translation and title generation -------------------------------------------------------------------
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


def _load_translator(run_dir: Path):
    from seqkit.api import Translator

    return Translator.load(run_dir)


def _translate(translator, texts: list[str]) -> list[dict]:
    outputs = translator.translate(texts, with_attention=True)
    return [_generated_json(text, output) for text, output in zip(texts, outputs, strict=True)]


def _load_summarizer(run_dir: Path):
    from seqkit.api import Summarizer

    return Summarizer.load(run_dir)


def _summarize(summarizer, texts: list[str]) -> list[dict]:
    outputs = summarizer.summarize(texts, with_attention=True)
    return [_generated_json(text, output) for text, output in zip(texts, outputs, strict=True)]


# ---- bAbI question answering ----------------------------------------------------------------------------
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


def _load_reader(run_dir: Path):
    from seqkit.api import Reader

    return Reader.load(run_dir)


def _story_tokens(question: StoryQuestion) -> int:
    return sum(map(count_tokens, question.story)) + count_tokens(question.question)


def _answer(reader, questions: list[StoryQuestion]) -> list[dict]:
    answers = reader.answer_many([(question.story, question.question) for question in questions])
    return [answer.to_json() for answer in answers]


# ---- the table ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """How one task is served. `items_field` names the request's list of items that batching merges; `items`,
    when given, turns a request into those items instead (so that a per-request option travels with each item);
    `tokens` counts one item's tokens (for the batches' token budget)."""

    path: str
    summary: str
    request: type[BaseModel]
    items_field: str
    answer: type[BaseModel]
    load: Callable[[Path], Any]
    predict: Callable[[Any, list], list[dict]]
    items: Callable[[BaseModel], list] | None = None
    tokens: Callable[[Any], int] = count_tokens


ENDPOINTS: dict[str, Endpoint] = {
    "slot-filling": Endpoint("/tag", "Tag slots and the intent", TagRequest, "texts", TaggedText, _load_tagger, _tag),
    "sentiment": Endpoint(
        "/classify", "Classify texts (and, asked, explain them)", ClassifyRequest, "texts", ClassifiedText,
        _load_classifier, _classify, _classify_items, _classify_item_tokens,
    ),
    "translation": Endpoint(
        "/translate", "Translate texts", GenerateRequest, "texts", GeneratedText, _load_translator, _translate
    ),
    "title-generation": Endpoint(
        "/summarize", "Write a title for each text", GenerateRequest, "texts", GeneratedText, _load_summarizer,
        _summarize,
    ),
    "babi": Endpoint(
        "/answer", "Answer questions about stories", AnswerRequest, "questions", AnsweredQuestion, _load_reader,
        _answer, tokens=_story_tokens,
    ),
}
