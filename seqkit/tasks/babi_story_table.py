"""Training batches of bAbI questions gathered from tables built once, instead of padded question by question.

collate_questions (seqkit/tasks/babi.py) pads each question's story into its batch with a tensor and a slice
assignment per question: about a second per epoch of 18,000 questions on one thread, a third of what the
memory network's own steps took at batches of 128. StoryTable holds every training story's sentences as
rows of one padded table, and each question as (first row, rows, width), its question words and its answer;
a batch is then a few gathers. The random-noise draws are the same calls on the same generator in the same
order as collate_questions makes, so a run's batches, and therefore its numbers, are unchanged
(tests/test_babi_story_table.py compares the two over whole epochs).
"""

from __future__ import annotations

import math
import random

import torch


class StoryTable:
    """Featurized questions (babi.BabiTask.featurize) as tables; `collate(indices, ...)` is collate_questions."""

    def __init__(self, featurized: list[dict]):
        # Questions of one story share its rows: featurize hands each a slice (a view) of one (n, L) tensor of
        # the whole story, so that tensor goes into the table once and a question starts at its slice's row.
        wholes = [example["story"] if example["story"]._base is None else example["story"]._base for example in
                  featurized]  # fmt: skip
        width = max((whole.shape[-1] for whole in wholes), default=1)
        blocks: list[torch.Tensor] = []
        first_rows: dict[int, int] = {}  # id of a story's tensor -> its first row in the table
        rows = 1  # row 0 stays all padding: noise memories and padding slots gather it
        starts, counts, widths = [], [], []
        for example, whole in zip(featurized, wholes, strict=True):
            story = example["story"]  # (n, L), a view of its whole story, whole (S, W)
            count = len(story)
            if count and id(whole) not in first_rows:
                block = whole.new_zeros(len(whole), width)
                block[:, : whole.shape[1]] = whole
                blocks.append(block)
                first_rows[id(whole)] = rows
                rows += len(whole)
            # A view's storage offset counts elements: rows skipped times the whole story's row length.
            skipped = story.storage_offset() // max(1, whole.stride(0)) if story._base is not None else 0
            starts.append(first_rows[id(whole)] + skipped if count else 0)
            widths.append(story.shape[1] if count else 1)
            counts.append(count)
        self.rows = torch.cat([torch.zeros(1, width, dtype=torch.long), *blocks])  # (R, L)
        self.starts = torch.tensor(starts, dtype=torch.long)  # (N,)
        self.counts = counts  # the sentences each question remembers
        self.widths = torch.tensor(widths, dtype=torch.long)  # (N,)
        question_width = max((len(example["question"]) for example in featurized), default=1)
        self.questions = torch.zeros(len(featurized), max(1, question_width), dtype=torch.long)  # (N, Lq)
        for row, example in enumerate(featurized):
            self.questions[row, : len(example["question"])] = example["question"]
        self.question_lengths = torch.tensor([len(example["question"]) for example in featurized])  # (N,)
        self.answers = torch.tensor([example["answer"] for example in featurized], dtype=torch.long)  # (N,)

    def collate(
        self,
        indices: list[int],
        memory_size: int,
        noise: float = 0.0,
        generator: random.Random | None = None,
        noise_memories: bool = True,
    ) -> dict[str, torch.Tensor]:
        """The batch collate_questions makes of the same questions with the same generator state."""
        ages_per_question, sizes = [], []
        for index in indices:
            count = self.counts[index]
            if noise > 0 and count:
                # The draws of collate_questions, call for call: one randint, one shuffle per question.
                extra = generator.randint(0, math.ceil(noise * count))
                slots = list(range(count + extra))
                generator.shuffle(slots)
                real = sorted(slots[:count])
                ages = [count + extra - 1 - slot for slot in real + slots[count:]]
                if not noise_memories:
                    ages = ages[:count]
            else:
                ages = list(range(count - 1, -1, -1))
            ages_per_question.append(ages)
            sizes.append(len(ages))
        memories = max(1, max(sizes))
        chosen = torch.tensor(indices, dtype=torch.long)  # (B,)
        width = max(1, int(self.widths[chosen].max()))
        slot = torch.arange(memories)  # (M,)
        counts = torch.tensor([self.counts[index] for index in indices], dtype=torch.long)  # (B,)
        real = slot < counts[:, None]  # (B, M): the story's own sentences come first
        row_ids = torch.where(real, self.starts[chosen, None] + slot, 0)  # (B, M); row 0 is all padding
        story = self.rows[:, :width][row_ids]  # (B, M, L)
        time = torch.tensor([ages + [0] * (memories - len(ages)) for ages in ages_per_question], dtype=torch.long)
        question_width = max(1, int(self.question_lengths[chosen].max()))
        return {
            "story": story,
            "time": time.clamp(max=memory_size - 1),  # (B, M)
            "memory_mask": slot < torch.tensor(sizes, dtype=torch.long)[:, None],  # (B, M)
            "question": self.questions[chosen, :question_width],  # (B, Lq)
            "answer": self.answers[chosen],  # (B,)
        }
