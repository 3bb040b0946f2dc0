"""Slot filling with joint intent detection (ATIS) and named-entity tagging (CoNLL-2003).

Data comes in the ATIS layout (`<split>/seq.in`, `seq.out`, optional `label`) or as CoNLL columns. A
multi-intent label ("atis_flight#atis_airfare") names a set, so its parts are sorted on reading. Labels never
seen in training (the ATIS test set then has 2 such intents and 6 such slot tags) get no output unit: the model
cannot predict them, and scoring compares label strings, so each one counts as an error against the model,
never as a crash. Evaluation reports how many gold labels were unseen.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import torch

from seqkit.bounds import MAX_WIDTH, PLAIN_FOLDER_NAME, setting
from seqkit.config import Recipe
from seqkit.data.batching import bucketed_order, collate, epoch_order
from seqkit.data.hub import sentences_from_dataset, split_off, write_atis_layout, write_conll
from seqkit.data.readers import TaggedSentence, read_atis_split, read_conll
from seqkit.data.sources import check_split_files, resolve_dataset
from seqkit.encoders import featurize_tokens, lexicon_words, needed_features
from seqkit.errors import ConfigError, InputError
from seqkit.heads.tagger import INTENT_POOLINGS, TaggerHead
from seqkit.layers.crf import bio_constraints
from seqkit.layers.slot_gate import SLOT_GATES
from seqkit.metrics import accuracy, bio_chunks, sentence_accuracy, span_scores
from seqkit.tasks.base import HttpEndpoint
from seqkit.text.vocab import Vocab
from seqkit.training.distillation import Teacher, altered_copies, soft_intents

# Padded tokens per batch in training when train.max_tokens is unset, and in prediction: batches of ATIS (46
# tokens at most) and CoNLL-2003 (124) stay as batch_size cuts them, while long sentences come in smaller
# batches. Measured on atis_scratch with 1000-token sentences: training 32 to a batch peaked at 3.1 GB, 8 (this
# budget) at 1.1 GB; tagging 32 to a batch (the prediction budget) added 0.4 GB.
PADDED_TOKENS_PER_BATCH = 8192
PREDICTION_TOKENS_PER_BATCH = 32768


@dataclass(frozen=True)
class SlotFillingData:
    """Where the sentences are and how they are laid out."""

    # Folder name under $SEQKIT_DATA_DIR and in the cache.
    dataset: str = setting("atis", pattern=PLAIN_FOLDER_NAME)
    # "atis" (split folders with seq.in/seq.out/label) or "conll" (one column file per split).
    format: str = setting("atis", choices=("atis", "conll"), kind="format")
    # Split folder names (atis) or file names (conll).
    train: str = "train"
    # The dev split, on which the best epoch is chosen.
    valid: str = "valid"
    # The test split, read only by `seqkit evaluate --split test`.
    test: str = "test"
    # Hub fallback: a `datasets` id and its column names; null disables downloading.
    hub_id: str | None = None
    # The hub dataset's column of word lists.
    hub_tokens_field: str = "tokens"
    # The hub dataset's column of tag lists (one BIO tag per word).
    hub_tags_field: str = "tags"
    # The hub dataset's column of intents; null when it has none.
    hub_intent_field: str | None = None
    # Lowercase user text before tagging (set it when the training data is lowercased, like ATIS).
    lowercase: bool = False
    # A label joining several intents with this separator names a set: its parts are sorted on reading, so
    # ATIS's "atis_flight#atis_airfare" (train) and "atis_airfare#atis_flight" (test) are one label. null keeps
    # labels exactly as written.
    intent_separator: str | None = "#"
    # A sentence of more tokens is an error naming its file and line (ATIS's longest has 46): one line of 100,000
    # tokens pads its whole batch to that length and took 10 GB. null: no limit.
    max_tokens: int | None = 1000

    def __post_init__(self) -> None:
        # Checked here so that `seqkit validate` catches it: splitting on "" is meaningless.
        if self.intent_separator == "":
            raise ConfigError("data.intent_separator: must be a non-empty string, or null to keep labels as written")
        if self.max_tokens is not None and self.max_tokens < 1:
            raise ConfigError(f"data.max_tokens: must be at least 1, or null for no limit, got {self.max_tokens}")


@dataclass(frozen=True)
class TaggerConfig:
    # A linear-chain CRF over the tag scores: the best tag sequence as a whole (Viterbi); false: each word's tag
    # is chosen on its own.
    use_crf: bool = True
    # Predict an utterance-level intent too (needs `label` files).
    intent: bool = True
    # The intent's share of the joint loss: slot loss + intent_weight x intent loss.
    intent_weight: float = setting(1.0, minimum=0, maximum=1000)
    # What the intent reads besides the final states: "max" over time, "attention" (self-attentive weighted
    # sum, Liu and Lane 2016) or "max+attention"; or "tokens", a vote of every position's own intent
    # (Qin et al. 2019). intent_attention_size is the attention's hidden width.
    intent_pooling: str = setting("max", choices=INTENT_POOLINGS, kind="pooling")
    intent_attention_size: int = setting(100, minimum=1, maximum=MAX_WIDTH)
    # Give the intent its own one-layer recurrent layer (as wide as rnn) over the shared input encoder, instead
    # of reading the slot tagger's states (the separate-encoder joint models of Wang et al. 2018).
    intent_encoder: bool = False
    # Dropout on the recurrent states before the tag and intent scores, in training only.
    dropout: float = setting(0.3, minimum=0, below=1)
    # The slot gate of Goo et al. (2018): the vector the intent is scored from gates what each word adds to its
    # state before the tag scores. "full": slot attention over the sentence, gated; "intent": the gate on each
    # word's own state; "none": no gate. Needs the intent, pooled over time (not "tokens").
    slot_gate: str = setting("none", choices=SLOT_GATES, kind="slot gate")
    # Knowledge distillation (seqkit/training/distillation.py): a finished slot-filling run dir with an intent (the
    # default recipe's, say), whose intent distributions the intent also learns from. The teacher reads the
    # training sentences once before training and is not needed to tag. null: the gold intent alone.
    teacher: str | None = None
    # The teacher's share of the intent loss: (1 - distill_weight) x the gold intent's + distill_weight x the
    # teacher's.
    distill_weight: float = setting(0.5, minimum=0, maximum=1)
    # The teacher's and the student's intent scores are divided by this before the softmax; above 1 it spreads
    # the teacher's probability over the intents it finds close.
    distill_temperature: float = setting(2.0, above=0, maximum=100)
    # With a teacher: this many altered copies of each training sentence join training, labelled by the teacher
    # alone (its tags, its most likely intent and its intent distribution; seqkit/training/distillation.py).
    # 0: the training sentences only.
    teacher_copies: int = setting(0, minimum=0, maximum=100)
    # In each copy, the chance of each word being swapped for a training word that carried the same tag.
    teacher_swap_rate: float = setting(0.2, minimum=0, maximum=1)

    def __post_init__(self) -> None:
        if self.teacher_copies and self.teacher is None:
            raise ConfigError("head.teacher_copies: the copies are labelled by a teacher; set head.teacher too")
        if self.teacher is not None and (not self.intent or self.intent_pooling == "tokens"):
            raise ConfigError(
                "head.teacher: the teacher's intent distribution trains an intent pooled over time; it needs "
                "head.intent: true and an intent_pooling other than tokens"
            )
        if self.slot_gate != "none" and (not self.intent or self.intent_pooling == "tokens"):
            raise ConfigError(
                f"head.slot_gate: {self.slot_gate!r} reads the intent pooled over time; it needs head.intent: true "
                "and an intent_pooling other than tokens"
            )


class SlotFillingTask:
    name = "slot-filling"
    default_recipe = "atis"
    data_config = SlotFillingData
    head_config = TaggerConfig
    metric = "slot_f1"
    predictor = "Tagger"
    endpoint = HttpEndpoint("/tag", "Tag slots and the intent", schema="tagging")
    exporter = "tagger"
    export_refusal = None
    demo_view = "tagged"
    demo_placeholder = "show me flights from boston to denver on monday"
    verbs = ("tag",)

    # ---- data -------------------------------------------------------------------------------------------
    def load_splits(self, recipe: Recipe, data_dir: Path | None, splits: tuple[str, ...]) -> dict:
        data: SlotFillingData = recipe.data
        names = {"train": data.train, "valid": data.valid, "test": data.test}
        check_split_files({f"data.{split}": names[split] for split in splits})
        if data.format == "atis":
            required = [f"{names[split]}/{file}" for split in splits for file in ("seq.in", "seq.out")]
        elif data.format == "conll":
            required = [names[split] for split in splits]
        else:
            raise ConfigError(f"data.format: unknown format {data.format!r} (choose from: atis, conll)")
        download = (lambda folder: self.download(data, folder)) if data.hub_id else None
        folder = resolve_dataset(data.dataset, required, data_dir, download)
        if data.format == "conll":
            return {split: read_conll(folder / names[split], max_tokens=data.max_tokens) for split in splits}
        return {
            split: [
                canonical_intent(s, data.intent_separator)
                for s in read_atis_split(folder / names[split], data.max_tokens)
            ]
            for split in splits
        }

    def download(self, data: SlotFillingData, folder: Path) -> None:
        """Fill `folder` from the hub copy named in the recipe, in the recipe's own layout."""
        import datasets

        hub = datasets.load_dataset(data.hub_id)
        converted = {
            split: sentences_from_dataset(
                hub[split], data.hub_tokens_field, data.hub_tags_field, data.hub_intent_field, f"{data.hub_id}/{split}"
            )
            for split in hub
        }
        write_hub_splits(converted, folder, data)

    # ---- vocabularies and features ----------------------------------------------------------------------
    def build_vocabularies(self, recipe: Recipe, train: list[TaggedSentence]) -> dict[str, Vocab]:
        vocabularies = {
            "words": Vocab.build(
                (lexicon_words(s.tokens, recipe.encoder.lowercase_words) for s in train),
                recipe.encoder.min_freq,
                recipe.encoder.max_vocab_size,
            ),
            "tags": Vocab.labels(s.tags for s in train),
        }
        if recipe.head.intent:
            if any(s.intent is None for s in train):
                raise ConfigError("head.intent: the training data has no intent labels; set head.intent=false")
            vocabularies["intents"] = Vocab.labels([s.intent] for s in train)
        return vocabularies

    def featurize(
        self, recipe: Recipe, vocabularies: dict[str, Vocab], tokens: list[str], sentence: TaggedSentence | None
    ) -> dict:
        encoder = recipe.encoder
        features = featurize_tokens(
            tokens,
            vocabularies["words"],
            needed_features(encoder),
            encoder.hash_buckets,
            0,
            encoder.lowercase_words,
            encoder.pretrained_model,
            encoder.character_buckets,
            encoder.character_limit,
        )
        if sentence is not None:
            features["tags"] = vocabularies["tags"].label_ids(sentence.tags, "tag")
            if "intents" in vocabularies:
                (features["intent"],) = vocabularies["intents"].label_ids([sentence.intent], "intent")
        return features

    def training_batches(
        self,
        recipe: Recipe,
        vocabularies: dict[str, Vocab],
        train: list[TaggedSentence],
        teacher: Teacher | None = None,
    ):
        """A function epoch -> list of batches, featurized once, reshuffled per epoch from the seed. With
        `head.teacher`, `teacher` is that run loaded (seqkit/training/teacher.py), and each sentence carries its
        intent distribution."""
        featurized = numbered(
            (lambda s: self.featurize(recipe, vocabularies, list(s.tokens), s)),
            train,
            f"data.train ({recipe.data.train})",
        )
        lengths = [len(s.tokens) for s in train]
        if recipe.head.teacher is not None:
            if teacher is None:
                raise ConfigError(f"head.teacher: {recipe.head.teacher} was not loaded for training")
            self.attach_teacher_intents(recipe, vocabularies, [list(s.tokens) for s in train], featurized, teacher)
            featurized += self.teacher_labelled_copies(recipe, vocabularies, train, teacher)
            lengths += [len(s.tokens) for s in train for _ in range(recipe.head.teacher_copies)]
        budget = replace(recipe.train, max_tokens=recipe.train.max_tokens or PADDED_TOKENS_PER_BATCH)

        def batches_for_epoch(epoch: int) -> list[dict[str, torch.Tensor]]:
            order = epoch_order(lengths, budget, recipe.seed, epoch)
            return [collate([featurized[i] for i in indices], {"tags": -100}) for indices in order]

        return batches_for_epoch

    def attach_teacher_intents(
        self,
        recipe: Recipe,
        vocabularies: dict[str, Vocab],
        token_lists: list[list[str]],
        featurized: list[dict],
        teacher: Teacher,
    ) -> None:
        """Add to each featurized sentence (of `token_lists`) the teacher's intent distribution (its
        "teacher_intent", a (C,) float tensor), the teacher reading the sentence as its own recipe featurizes it."""
        head: TaggerConfig = recipe.head
        teacher_recipe, teacher_vocabularies, teacher_model = teacher
        if teacher_recipe.task != self.name or "intents" not in teacher_vocabularies:
            raise ConfigError(f"head.teacher: {head.teacher} holds no slot-filling model with an intent")
        teacher_features = numbered(
            (lambda tokens: self.featurize(teacher_recipe, teacher_vocabularies, tokens, None)),
            token_lists,
            f"data.train ({recipe.data.train})",
        )
        distributions = soft_intents(
            teacher_model,
            teacher_features,
            teacher_vocabularies["intents"],
            vocabularies["intents"],
            head.distill_temperature,
            "head.teacher",
        )
        for example, distribution in zip(featurized, distributions, strict=True):
            example["teacher_intent"] = distribution

    def teacher_labelled_copies(
        self, recipe: Recipe, vocabularies: dict[str, Vocab], train: list[TaggedSentence], teacher: Teacher
    ) -> list[dict]:
        """Featurized altered copies of the training sentences (head.teacher_copies of each, in order), labelled
        by the teacher: its tags (one it has and the student lacks becomes "O"), its intent distribution, and the
        most likely intent of that as the hard label."""
        head: TaggerConfig = recipe.head
        if not head.teacher_copies:
            return []
        sentences = [(s.tokens, s.tags) for s in train]
        token_lists = altered_copies(sentences, head.teacher_copies, head.teacher_swap_rate, recipe.seed)
        featurized = numbered(
            (lambda tokens: self.featurize(recipe, vocabularies, tokens, None)), token_lists, "head.teacher_copies"
        )
        self.attach_teacher_intents(recipe, vocabularies, token_lists, featurized, teacher)
        teacher_recipe, teacher_vocabularies, teacher_model = teacher
        predictions = self.predict(teacher_model, teacher_recipe, teacher_vocabularies, token_lists)
        tags = vocabularies["tags"]
        for example, prediction in zip(featurized, predictions, strict=True):
            example["tags"] = [tags.id(tag if tag in tags else "O") for tag in prediction["tags"]]
            example["intent"] = int(example["teacher_intent"].argmax())
        return featurized

    # ---- model ------------------------------------------------------------------------------------------
    def build_head(self, recipe: Recipe, vocabularies: dict[str, Vocab], input_size: int) -> TaggerHead:
        from seqkit.layers.rnn import build_recurrent_layer

        head: TaggerConfig = recipe.head
        tagger = TaggerHead(
            build_recurrent_layer(recipe.rnn, input_size),
            num_tags=len(vocabularies["tags"]),
            num_intents=len(vocabularies["intents"]) if head.intent else 0,
            use_crf=head.use_crf,
            dropout=head.dropout,
            intent_weight=head.intent_weight,
            intent_pooling=head.intent_pooling,
            intent_attention_size=head.intent_attention_size,
            intent_context=(
                build_recurrent_layer(replace(recipe.rnn, num_layers=1, dropout=0.0), input_size)
                if head.intent_encoder and head.intent
                else None
            ),
            slot_gate=head.slot_gate,
            distill_weight=head.distill_weight if head.teacher is not None else 0.0,
            distill_temperature=head.distill_temperature,
        )
        if tagger.crf is not None:
            tagger.crf.set_allowed(*bio_constraints(vocabularies["tags"].tokens))
        return tagger

    # ---- prediction and scoring -------------------------------------------------------------------------
    @torch.inference_mode()
    def predict(
        self, model, recipe: Recipe, vocabularies: dict[str, Vocab], token_lists: list[list[str]], batch_size: int = 256
    ) -> list[dict]:
        """Tag tokenized sentences; returns per sentence its tags, intent and intent probability."""
        if model.training:  # eval() walks every module: a millisecond that a one-sentence call would pay each time
            model.eval()
        results: list[dict | None] = [None] * len(token_lists)
        featurized = numbered((lambda tokens: self.featurize(recipe, vocabularies, tokens, None)), token_lists, "input")
        lengths = [len(tokens) for tokens in token_lists]
        for indices in bucketed_order(lengths, batch_size, max_tokens=PREDICTION_TOKENS_PER_BATCH):
            batch = collate([featurized[i] for i in indices])
            output = model(batch)
            paths = model.head.decode_tags(output)
            tag_names = vocabularies["tags"].tokens
            intents = None
            if "intent_logits" in output.extras:
                # One max and one conversion to Python for the whole batch, not a tensor op per sentence.
                probabilities, best = output.extras["intent_logits"].softmax(dim=-1).max(dim=-1)  # (B,), (B,)
                intent_names = vocabularies["intents"].tokens
                intents = [(intent_names[i], p) for i, p in zip(best.tolist(), probabilities.tolist(), strict=True)]
            for row, index in enumerate(indices):
                prediction = {"tags": [tag_names[t] for t in paths[row]]}
                if intents is not None:
                    prediction["intent"], prediction["intent_probability"] = intents[row]
                results[index] = prediction
        return results

    def evaluate(self, model, recipe: Recipe, vocabularies: dict[str, Vocab], sentences: list[TaggedSentence]) -> dict:
        predictions = self.predict(model, recipe, vocabularies, [list(s.tokens) for s in sentences])
        gold_tags = [list(s.tags) for s in sentences]
        predicted_tags = [p["tags"] for p in predictions]
        spans = span_scores(gold_tags, predicted_tags)
        scores = {"slot_precision": spans["precision"], "slot_recall": spans["recall"], "slot_f1": spans["f1"]}
        unseen_tags = sum(tag not in vocabularies["tags"] for s in sentences for tag in s.tags)
        scores["unseen_gold_tags"] = unseen_tags
        if "intents" in vocabularies and all(s.intent is not None for s in sentences):
            gold_intents = [s.intent for s in sentences]
            predicted_intents = [p["intent"] for p in predictions]
            scores["intent_accuracy"] = accuracy(gold_intents, predicted_intents)
            scores["sentence_accuracy"] = sentence_accuracy(gold_tags, predicted_tags, gold_intents, predicted_intents)
            scores["unseen_gold_intents"] = sum(i not in vocabularies["intents"] for i in gold_intents)
        else:
            scores["sentence_accuracy"] = sentence_accuracy(gold_tags, predicted_tags)
        scores["sentences"] = len(sentences)
        return scores


def spans_of(text: str, offsets: list[tuple[int, int]], tags: list[str]) -> list[dict]:
    """The slot spans of a tagged text, in order: token indices (`start`, `end` exclusive), character offsets
    into `text` (`start_char`, `end_char` exclusive, as spaCy names them) and the text as written there.

    `offsets` are the tokens' character offsets in `text` (one pair per tag).
    """
    spans = []
    for start, end, kind in sorted(bio_chunks(tags)):
        start_char, end_char = offsets[start][0], offsets[end - 1][1]
        spans.append(
            {
                "type": kind,
                "start": start,
                "end": end,
                "start_char": start_char,
                "end_char": end_char,
                "text": text[start_char:end_char],
            }
        )
    return spans


def canonical_intent(sentence: TaggedSentence, separator: str | None) -> TaggedSentence:
    """The sentence with its multi-intent label's parts sorted (unchanged without a separator or an intent)."""
    if separator is None or sentence.intent is None or separator not in sentence.intent:
        return sentence
    return replace(sentence, intent=separator.join(sorted(sentence.intent.split(separator))))


def write_hub_splits(splits: dict[str, list[TaggedSentence]], folder: Path, data: SlotFillingData) -> None:
    """Write converted hub splits in the recipe's layout; carve a dev split when the hub copy has none."""
    aliases = {"validation": "valid", "dev": "valid"}
    named = {aliases.get(split, split): sentences for split, sentences in splits.items()}
    if "valid" not in named and "train" in named:
        named["train"], named["valid"] = split_off(named["train"], every=10)
    file_names = {"train": data.train, "valid": data.valid, "test": data.test}
    for split, sentences in named.items():
        target = file_names.get(split, split)
        if data.format == "atis":
            write_atis_layout(folder, target, sentences)
        else:
            write_conll(folder / target, sentences)


def numbered(featurize, items: list, where: str) -> list[dict]:
    """`featurize` of each item; an InputError (a sentence too long for a pretrained encoder, say) names the item:
    `data.train (train): sentence 12: ...`, the line of seq.in in the ATIS layout."""
    featurized = []
    for number, item in enumerate(items, start=1):
        try:
            featurized.append(featurize(item))
        except InputError as error:
            raise InputError(f"{where}: sentence {number}: {error}") from None
    return featurized
