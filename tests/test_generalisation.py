"""A recipe for users' own texts must learn what decides the label, not memorise the training sentences.

Each recipe is trained, unchanged, on two synthetic corpora that share no word: a two-class corpus and a
three-class one. In both, one cue word decides the label and the rest of a sentence is filler. The test
sentences are written with filler words that training never saw, so a model that keyed on whole sentences or
on filler words scores near chance, while one that found the cue words scores near 100%. The floor sits between.
"""

import csv
import random
from pathlib import Path

import pytest

from seqkit import api

FLOOR = 0.85  # chance is 0.50 and 0.33; a model that uses the cue words scores above 0.95 here

REVIEWS = {
    "positive": ["great", "lovely", "superb", "charming", "delightful", "brilliant"],
    "negative": ["awful", "dull", "tedious", "clumsy", "dreadful", "boring"],
}
QUESTIONS = {
    "place": ["harbour", "valley", "station", "island"],
    "person": ["baker", "captain", "teacher", "pilot"],
    "amount": ["dozen", "hundred", "thousand", "million"],
}
SEEN_FILLERS = ["the", "a", "film", "plot", "was", "quite", "and", "its", "cast", "story", "ending", "really"]
UNSEEN_FILLERS = ["tonight", "someone", "over", "purple", "river", "seven", "quietly", "window", "under", "old"]


def write_corpus(folder: Path, classes: dict[str, list[str]], seed: int) -> Path:
    """train.tsv (seen fillers) and test.tsv (unseen fillers) in the layout the my_texts recipe reads."""
    generator = random.Random(seed)
    folder.mkdir(parents=True)
    for split, fillers, count in (("train", SEEN_FILLERS, 1200), ("test", UNSEEN_FILLERS, 150)):
        with (folder / f"{split}.tsv").open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t")
            writer.writerow(["text", "label"])
            for index in range(count):
                label = sorted(classes)[index % len(classes)]
                words = generator.choices(fillers, k=generator.randint(3, 9))
                words.insert(generator.randint(0, len(words)), generator.choice(classes[label]))
                writer.writerow([" ".join(words), label])
    return folder


# The pretrained option reads each text with a transformer (about 30 s a corpus here), so it takes one corpus.
CASES = [(recipe, corpus) for recipe in ("my_texts", "my_texts_rnn") for corpus in ("reviews", "questions")]
CASES.append(("my_texts_pretrained", "questions"))


@pytest.mark.parametrize("recipe, corpus", CASES)
def test_a_user_data_recipe_learns_the_cue_not_the_sentences(tmp_path, recipe, corpus):
    classes = {"reviews": REVIEWS, "questions": QUESTIONS}[corpus]
    data = write_corpus(tmp_path / corpus, classes, seed=len(corpus))
    run = api.train("sentiment", recipe, data_dir=data, out=tmp_path / "run", show_progress=False,
                    overrides=["train.threads=1"])  # fmt: skip
    accuracy = api.evaluate(run, "test")["accuracy"]
    accuracy = accuracy / 100 if accuracy > 1 else accuracy
    assert accuracy >= FLOOR, f"{recipe} on {corpus}: test accuracy {accuracy:.2f} under the floor {FLOOR}"
