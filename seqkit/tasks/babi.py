"""bAbI question answering with the end-to-end memory network (Weston et al. 2015; Sukhbaatar et al. 2015).

One task (`data.task: 1..20`) or all twenty jointly (`data.task: all`), at 1k or 10k training questions per
task. As in the paper, 10% of each training file (whole stories, drawn once with a fixed generator) is held
out for validation; the test files give the final numbers. The 10k training file of task 3 is missing from
the shared data, so task 3 at 10k trains on its 1k file, and loading says so.

The memory network reads the story with its own tied embedding matrices, which the shared InputEncoder cannot
express, so this task builds the whole model (`build_model`, the hook seqkit.model.build_model calls).
Evaluation reports the error (%) per task, the mean error and the number of failed tasks (error > 5%).
Linear start ends, as in the paper, when validation loss stops falling (or after
`head.linear_start_max_epochs`; with `head.linear_start_stops_on_validation: false`, after exactly that many
epochs, as in the authors' code): the trainer's end-of-epoch evaluation, the one call made on a model still in
training mode, advances it.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch.nn import functional

from seqkit.bounds import MAX_EPOCHS, MAX_LAYERS, MAX_WIDTH, PLAIN_FOLDER_NAME, setting
from seqkit.config import Recipe
from seqkit.data.babi import SIZE_FOLDERS, TASK_COUNT, BabiQuestion, read_babi_file, task_file
from seqkit.data.batching import bucketed_order, epoch_order, epoch_seed
from seqkit.data.sources import has_files, resolve_dataset
from seqkit.errors import ConfigError, DataFormatError
from seqkit.heads.memnet import HOP_GATES, SENTENCE_ENCODINGS, TYINGS, MemoryNetwork
from seqkit.tasks.babi_story_table import StoryTable
from seqkit.tasks.base import HttpEndpoint
from seqkit.text.vocab import Vocab

FAILED_ABOVE = 5.0  # the paper counts a task as failed when its test error exceeds 5%


@dataclass(frozen=True)
class BabiData:
    # Folder name under $SEQKIT_DATA_DIR, holding en/ and en-10k/.
    dataset: str = setting("babi", pattern=PLAIN_FOLDER_NAME)
    # "1k" (en/) or "10k" (en-10k/).
    size: str = setting("1k", choices=tuple(SIZE_FOLDERS), kind="size")
    # The folder of the official archive's root (tasks_1-20_v1-2/) to read: en, en-10k, hn, shuffled, ...;
    # null reads en/ at size 1k and en-10k/ at 10k. Ignored when --data points at the qaN_*.txt files directly.
    variant: str | None = setting(None, pattern=PLAIN_FOLDER_NAME)
    # A task number 1..20, or "all" for joint training on the twenty tasks.
    task: int | str = setting("all", minimum=1, maximum=TASK_COUNT, choices=("all",), kind="task")
    # The share of each task's training stories held out as dev, on which the best epoch is chosen.
    validation_fraction: float = setting(0.1, above=0, below=1)
    # A statement or question of more words is an error naming its file and line (bAbI's are under 20 words);
    # memories are padded to the longest sentence of a batch, so one long line would take gigabytes.
    max_tokens: int | None = 100


@dataclass(frozen=True)
class MemoryNetworkConfig:
    # Rounds of reading the memory, each refining the question's state with what the last one read.
    hops: int = setting(3, minimum=1, maximum=MAX_LAYERS)
    # The width of the word, memory and question vectors.
    embedding_size: int = setting(50, minimum=1, maximum=MAX_WIDTH)
    # "position" (the paper's PE) or "bag_of_words".
    sentence_encoding: str = setting("position", choices=SENTENCE_ENCODINGS, kind="sentence encoding")
    # Temporal encoding: each memory also adds a learned vector for its age (how many sentences ago it came).
    temporal: bool = True
    # "adjacent" or "layerwise".
    tying: str = setting("adjacent", choices=TYINGS, kind="tying")
    # How each hop mixes what it read (o) into the question's state (u): "none" adds them (u + o); "gated" mixes
    # them through a learned sigmoid gate per hop, T = sigmoid(W u + b), u' = o T + u (1 - T) (Liu and Perez 2017);
    # "gated_shared" reads one such gate at every hop (the paper's global tying of the gates). With recipe babi_1k
    # (twenty tasks jointly) gates did worse on validation: mean error 14.0 / 14.1% for gated at seeds 13 / 14
    # against 10.3 / 10.7% without, task 16 failing at 52-60% error (records in results/babi/hop_gates).
    hop_gate: str = setting("none", choices=HOP_GATES, kind="hop gate")
    # The gates' initial bias b: 0 starts T near 1/2, u' = (u + o) / 2; negative starts the hops mostly skipped
    # (T near 0), positive starts each hop replacing u by what it read (T near 1). Read only with gated hops.
    hop_gate_bias: float = setting(0.0, minimum=-20, maximum=20)
    # Linear start: train with the softmaxes of the hops removed at first, then put them back (the paper's LS).
    linear_start: bool = True
    # The most epochs linear start may last.
    linear_start_max_epochs: int = setting(20, minimum=1, maximum=MAX_EPOCHS)
    # True: linear start also ends at the first epoch whose validation loss does not fall (the paper's text);
    # False: it lasts exactly linear_start_max_epochs epochs (the authors' released code: 30 at joint training).
    linear_start_stops_on_validation: bool = True
    # Random noise: in training, up to this fraction of empty memories is inserted among the real ones.
    random_noise: float = setting(0.1, minimum=0, maximum=1)
    # True: the inserted empty memories take part in attention (the paper's text); False: they only leave gaps
    # in the real memories' ages, as the authors' code draws the noise.
    random_noise_memories: bool = True
    # True: every hop's softmax also counts the memory_size - n slots a story of n sentences leaves unused, each
    # with score 0 and nothing to read, as in the authors' code (its unused slots hold the nil word); attention
    # over the real memories then sums to less than 1. False: the softmax covers the real memories only.
    unused_slots_attend: bool = False
    # Only the most recent sentences are kept in memory.
    memory_size: int = setting(50, minimum=1, maximum=100_000)
    # Standard deviation of the normal draws that initialise every weight of the memory network.
    init_std: float = setting(0.1, above=0, maximum=10)

    def __post_init__(self) -> None:
        # A bias without gates would be silently ignored; a recipe that sets one surely meant gated hops.
        if self.hop_gate == "none" and self.hop_gate_bias != 0:
            raise ConfigError("head.hop_gate_bias: only gated hops read it; set head.hop_gate to gated or gated_shared")


def selected_tasks(data: BabiData) -> list[int]:
    if data.task == "all":
        return list(range(1, TASK_COUNT + 1))
    if isinstance(data.task, int) and 1 <= data.task <= TASK_COUNT:
        return [data.task]
    raise ConfigError(f"data.task: expected a task number 1..{TASK_COUNT} or 'all', got {data.task!r}")


class BabiTask:
    name = "babi"
    default_recipe = "babi_1k"
    data_config = BabiData
    head_config = MemoryNetworkConfig
    metric = "mean_accuracy"
    predictor = "Reader"
    endpoint = HttpEndpoint("/answer", "Answer questions about stories", schema="reading")
    exporter = None
    export_refusal = "memory networks have no ONNX exporter; serve them with `seqkit serve` or seqkit.Reader"
    demo_view = "answered"
    demo_placeholder = "Mary went to the kitchen.\nJohn went to the garden."
    verbs = ("answer",)
    # The memory network embeds words with its own tied matrices (head.embedding_size) and reads no other encoder;
    # seqkit/model.py refuses the others rather than train silently without them.
    encoder_features = ("embedding",)
    # Linear start ends inside the end-of-epoch validation pass (advance_linear_start), which a refit on train
    # and validation together does not have: its model would never put the hop softmaxes back.
    refit_refusal = "the memory network's linear start is ended by its validation pass, which a refit has none of"

    # ---- data -------------------------------------------------------------------------------------------
    def load_splits(self, recipe: Recipe, data_dir: Path | None, splits: tuple[str, ...]) -> dict:
        data: BabiData = recipe.data
        if data.size not in SIZE_FOLDERS:
            raise ConfigError(f"data.size: expected one of {', '.join(SIZE_FOLDERS)}, got {data.size!r}")
        if not 0 < data.validation_fraction < 1:
            raise ConfigError("data.validation_fraction: must lie between 0 and 1")
        tasks = selected_tasks(data)
        needed = {"train": "train", "valid": "train", "test": "test"}
        read = sorted({(task, needed[split]) for task in tasks for split in splits})
        folder, files = self._locate(data, read, data_dir)
        result = {split: [] for split in splits}
        for task in tasks:
            if data.size == "10k" and files.get((task, "train"), "").startswith(f"{SIZE_FOLDERS['1k']}/"):
                print("note: en-10k lacks task 3's training file; task 3 trains on en/ (1k)", file=sys.stderr)
            parsed = {}  # train and valid come from one file: read it once
            for split in splits:
                name = files[task, needed[split]]
                if name not in parsed:
                    parsed[name] = read_babi_file(folder / name, task, data.max_tokens)
                stories = parsed[name]
                if split != "test":
                    held_out = _held_out_stories(len(stories), data.validation_fraction, task)
                    stories = [s for i, s in enumerate(stories) if (i in held_out) == (split == "valid")]
                    if not any(stories):  # one story: the validation split takes it
                        raise DataFormatError(folder / name, None, f"too few stories to hold out a {split} split")
                result[split].extend(question for story in stories for question in story)
        return result

    def _locate(
        self, data: BabiData, read: list[tuple[int, str]], data_dir: Path | None
    ) -> tuple[Path, dict[tuple[int, str], str]]:
        """The folder to read and, per (task, split), its file relative to that folder.

        Two layouts are accepted: the archive's root (a folder per variant: en/, en-10k/, hn/, ...), looked up
        like any dataset, or, with --data, a variant folder itself holding the qaN_*_{train,test}.txt files.
        """
        names = {(task, split): task_file(Path(), task, split).name for task, split in read}
        if data_dir is not None and has_files(Path(data_dir), sorted(names.values())):
            return Path(data_dir), names
        variant = data.variant or SIZE_FOLDERS[data.size]
        files = {key: f"{variant}/{name}" for key, name in names.items()}
        if data.variant is None and data.size == "10k" and (3, "train") in files:
            files[3, "train"] = f"{SIZE_FOLDERS['1k']}/{names[3, 'train']}"  # missing from en-10k (data README)
        numbers = sorted({task for task, _ in read})
        which = f"task {numbers[0]}" if len(numbers) == 1 else f"tasks {numbers[0]}-{numbers[-1]}"
        splits = sorted({split for _, split in read})
        suffix = splits[0] if len(splits) == 1 else "{" + ",".join(splits) + "}"
        expected = f"{variant}/qaN_*_{suffix}.txt for {which} (or the qaN files directly in it)"
        folder = resolve_dataset(data.dataset, sorted(files.values()), data_dir, expected=expected)
        return folder, files

    # ---- vocabularies and features ----------------------------------------------------------------------
    def build_vocabularies(self, recipe: Recipe, train: list[BabiQuestion]) -> dict[str, Vocab]:
        """One lexicon for story, question and answer words: the answer layer scores them all (W^T = C^K)."""
        sequences = [sentence for question in train for sentence in question.story]
        sequences += [question.question for question in train] + [[question.answer] for question in train]
        return {"words": Vocab.build(sequences, recipe.encoder.min_freq, recipe.encoder.max_vocab_size)}

    def featurize(self, recipe: Recipe, vocabularies: dict[str, Vocab], questions: list[BabiQuestion]) -> list:
        """Per question: its most recent `memory_size` statements (n, L), the question (Lq,), the answer id.

        Questions of one story share their statement objects (see the reader), so each story is turned into
        ids once, and a question takes a slice of it, trimmed to its own longest sentence.
        """
        words = vocabularies["words"]
        longest: dict[int, tuple] = {}
        for question in questions:
            if question.story and len(question.story) > len(longest.get(id(question.story[0]), ())):
                longest[id(question.story[0])] = question.story
        stories = {key: _story_ids(words, story) for key, story in longest.items()}
        featurized = []
        for question in questions:
            count = len(question.story)
            start = max(0, count - recipe.head.memory_size)
            ids, lengths = stories[id(question.story[0])] if count else (torch.zeros(0, 1, dtype=torch.long), [1])
            width = max(lengths[start:count], default=1)
            featurized.append(
                {
                    "story": ids[start:count, :width],  # (n, L)
                    "question": torch.as_tensor(words.ids(question.question), dtype=torch.long),  # (Lq,)
                    "answer": words.id(question.answer),
                }
            )
        return featurized

    def training_batches(self, recipe: Recipe, vocabularies: dict[str, Vocab], train: list[BabiQuestion]):
        """A function epoch -> batches; random-noise memories are drawn per epoch from (seed, epoch)."""
        featurized = self.featurize(recipe, vocabularies, train)
        sizes = [len(example["story"]) for example in featurized]
        head: MemoryNetworkConfig = recipe.head
        # Built once: each epoch's batches are gathered from its tables, the batches collate_questions would make.
        table = StoryTable(featurized)

        def batches_for_epoch(epoch: int) -> EpochBatches:
            order = epoch_order(sizes, recipe.train, recipe.seed, epoch)
            # Plain Python draws for the noise: per-example torch calls cost more than the model's step.
            noise_generator = random.Random(epoch_seed(recipe.seed, epoch))
            return EpochBatches(
                order,
                lambda indices: table.collate(
                    indices,
                    head.memory_size,
                    head.random_noise,
                    noise_generator,
                    head.random_noise_memories,
                ),
            )

        return batches_for_epoch

    # ---- model ------------------------------------------------------------------------------------------
    def build_model(self, recipe: Recipe, vocabularies: dict[str, Vocab]) -> MemoryNetwork:
        head: MemoryNetworkConfig = recipe.head
        if head.sentence_encoding not in SENTENCE_ENCODINGS:
            choices = ", ".join(SENTENCE_ENCODINGS)
            found = head.sentence_encoding
            raise ConfigError(f"head.sentence_encoding: expected one of {choices}, got {found!r}")
        try:
            return MemoryNetwork(
                len(vocabularies["words"]),
                head.embedding_size,
                hops=head.hops,
                memory_size=head.memory_size,
                unused_slots_attend=head.unused_slots_attend,
                position_encoded=head.sentence_encoding == "position",
                temporal=head.temporal,
                tying=head.tying,
                linear_start=head.linear_start,
                pad_id=vocabularies["words"].pad_id,
                init_std=head.init_std,
                hop_gate=head.hop_gate,
                gate_bias=head.hop_gate_bias,
            )
        except ValueError as error:
            raise ConfigError(f"head: {error}") from None

    def build_head(self, recipe: Recipe, vocabularies: dict[str, Vocab], input_size: int) -> MemoryNetwork:
        """The memory network is head and encoder in one; see build_model."""
        return self.build_model(recipe, vocabularies)

    # ---- prediction and scoring -------------------------------------------------------------------------
    @torch.inference_mode()
    def predict(
        self,
        model: MemoryNetwork,
        recipe: Recipe,
        vocabularies: dict[str, Vocab],
        questions: list[BabiQuestion],
        batch_size: int = 256,
        keep_batches: bool = False,
    ) -> tuple[list[dict], float]:
        """Answer questions: per question the answer, its probability, attention (K, n); and the mean loss.

        `keep_batches`: keep these questions' batches for the next call with the same list (the trainer's dev
        evaluation after every epoch), instead of featurizing and padding them again each time.
        """
        model.eval()
        words = vocabularies["words"]
        results: list[dict | None] = [None] * len(questions)
        loss_sum = 0.0
        for indices, memory_counts, batch in self._prediction_batches(
            recipe, vocabularies, questions, batch_size, keep_batches
        ):
            output = model(batch)
            loss_sum += float(functional.cross_entropy(output.logits, batch["answer"], reduction="sum"))
            probabilities = output.logits.softmax(dim=-1)  # (B, V)
            best_probability, best = probabilities.max(dim=-1)
            for row, (index, memories) in enumerate(zip(indices, memory_counts, strict=True)):
                results[index] = {
                    "answer": words.token(int(best[row])),
                    "probability": float(best_probability[row]),
                    "attention": output.extras["attention"][row, :, :memories].tolist(),  # (K, n)
                }
        return results, loss_sum / max(1, len(questions))

    def _prediction_batches(
        self, recipe: Recipe, vocabularies: dict[str, Vocab], questions: list, batch_size: int, keep: bool
    ) -> list[tuple[list[int], list[int], dict]]:
        """Per batch: the questions' indices, their memory counts, and the padded batch (no noise: the same
        batches every time). Featurizing and padding the 2,000 dev questions of bAbI 1k took half of each
        epoch's dev evaluation, which is a tenth of an epoch on one thread; the kept batches answer a call
        with the same list, vocabularies and memory size (a list is read as it was when first kept).
        """
        kept = getattr(self, "_kept_batches", None)
        if kept is not None:
            (kept_questions, kept_vocabularies, kept_settings), kept_batches = kept
            if kept_questions is questions and kept_vocabularies is vocabularies:
                if kept_settings == (recipe.head.memory_size, batch_size):
                    return kept_batches
        featurized = self.featurize(recipe, vocabularies, questions)
        batches = [
            (
                indices,
                [len(featurized[i]["story"]) for i in indices],
                collate_questions([featurized[i] for i in indices], recipe.head.memory_size),
            )
            for indices in bucketed_order([len(example["story"]) for example in featurized], batch_size)
        ]
        if keep:
            self._kept_batches = ((questions, vocabularies, (recipe.head.memory_size, batch_size)), batches)
        return batches

    def evaluate(
        self, model: MemoryNetwork, recipe: Recipe, vocabularies: dict[str, Vocab], questions: list
    ) -> dict:
        from_trainer = model.training  # only the trainer's end-of-epoch check hands over a training model
        predictions, loss = self.predict(model, recipe, vocabularies, questions, keep_batches=from_trainer)
        errors: dict[int, list[int]] = {}
        for question, prediction in zip(questions, predictions, strict=True):
            errors.setdefault(question.task, []).append(int(prediction["answer"] != question.answer))
        per_task = {str(task): 100.0 * sum(wrong) / len(wrong) for task, wrong in sorted(errors.items())}
        mean_error = sum(per_task.values()) / max(1, len(per_task))
        if from_trainer:
            head: MemoryNetworkConfig = recipe.head
            advance_linear_start(model, loss, head.linear_start_max_epochs, head.linear_start_stops_on_validation)
        return {
            "mean_accuracy": 100.0 - mean_error,
            "mean_error": mean_error,
            "failed_tasks": sum(error > FAILED_ABOVE for error in per_task.values()),
            "loss": loss,
            "errors": per_task,
            "questions": len(questions),
        }

    def report(self, scores: dict) -> str:
        """The per-task error table that `seqkit evaluate` prints."""
        from seqkit.tasks.babi_tables import error_table

        return error_table(scores)


class EpochBatches(Sequence):
    """An epoch's batches, collated on first access and always in order, since the noise draws are sequential.

    The trainer takes them all; a smoke test that wants two batches of a 10k epoch collates only two.
    """

    def __init__(self, order: list[list[int]], make: Callable[[list[int]], dict]):
        self.order = order
        self.make = make
        self.made: list[dict] = []

    def __len__(self) -> int:
        return len(self.order)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        while len(self.made) <= index:
            self.made.append(self.make(self.order[len(self.made)]))
        return self.made[index]


def advance_linear_start(
    model: MemoryNetwork, validation_loss: float, max_epochs: int, stops_on_validation: bool = True
) -> None:
    """After a linear-start epoch: end linear start when time is up or (if `stops_on_validation`) when
    validation loss stopped falling.

    The switch takes effect at the next training step (MemoryNetwork.forward), so the weights the trainer
    saves for this epoch still say that they were trained and scored without the hop softmaxes.
    """
    if not bool(model.linear_attention) or bool(model.linear_start_done):
        return
    model.linear_epochs += 1
    stalled = stops_on_validation and validation_loss >= float(model.best_linear_loss)
    if stalled or int(model.linear_epochs) >= max_epochs:
        model.linear_start_done.fill_(True)
    else:
        model.best_linear_loss.fill_(validation_loss)


def collate_questions(
    examples: list[dict],
    memory_size: int,
    noise: float = 0.0,
    generator: random.Random | None = None,
    noise_memories: bool = True,
) -> dict[str, torch.Tensor]:
    """Pad questions into a batch: story (B, M, L), time (B, M), memory_mask (B, M), question, answer (B,).

    Time index 0 is the most recent memory. With `noise` (training), each story of n memories gets
    uniformly 0..ceil(noise * n) empty memories at random places among its real ones: they shift the real
    memories' ages and take part in attention with their time vector only, which regularises T_A and T_C.
    """
    stories, times = [], []
    for example in examples:
        story = example["story"]  # (n, L)
        count = len(story)
        if noise > 0 and count:
            extra = generator.randint(0, math.ceil(noise * count))
            slots = list(range(count + extra))
            generator.shuffle(slots)
            real = sorted(slots[:count])  # the real memories keep their chronological order
            ages = [count + extra - 1 - slot for slot in real + slots[count:]]
            if noise_memories:
                story = torch.cat([story, story.new_zeros(extra, story.shape[1])])
            else:
                ages = ages[:count]
        else:
            ages = list(range(count - 1, -1, -1))
        stories.append(story)
        times.append(torch.tensor(ages, dtype=torch.long).clamp(max=memory_size - 1))
    batch_size = len(examples)
    memories = max(1, max(len(story) for story in stories))
    width = max(1, max(story.shape[1] for story in stories))
    story_batch = torch.zeros(batch_size, memories, width, dtype=torch.long)
    time_batch = torch.zeros(batch_size, memories, dtype=torch.long)
    mask = torch.zeros(batch_size, memories, dtype=torch.bool)
    for row, (story, ages) in enumerate(zip(stories, times, strict=True)):
        story_batch[row, : len(story), : story.shape[1]] = story
        time_batch[row, : len(story)] = ages
        mask[row, : len(story)] = True
    question_width = max(1, max(len(example["question"]) for example in examples))
    questions = torch.zeros(batch_size, question_width, dtype=torch.long)
    for row, example in enumerate(examples):
        questions[row, : len(example["question"])] = example["question"]
    return {
        "story": story_batch,
        "time": time_batch,
        "memory_mask": mask,
        "question": questions,
        "answer": torch.as_tensor([example["answer"] for example in examples], dtype=torch.long),
    }


def _story_ids(words: Vocab, story: tuple) -> tuple[torch.Tensor, list[int]]:
    """A whole story as padded ids (n, L) and its sentence lengths."""
    lengths = [len(sentence) for sentence in story]
    width = max(lengths)
    rows = [words.ids(sentence) + [words.pad_id] * (width - len(sentence)) for sentence in story]
    return torch.tensor(rows, dtype=torch.long), lengths


def _held_out_stories(count: int, fraction: float, task: int) -> set[int]:
    """The validation stories of a training file: a fixed draw (per task, not per seed), so repeats agree."""
    order = torch.randperm(count, generator=torch.Generator().manual_seed(task))
    return set(order[: max(1, round(count * fraction))].tolist())
