"""head.teacher (knowledge distillation of the intent): the teacher's distributions are matched to the student's
intents by name, the soft loss pulls the student towards them, a student trains from a teacher's run dir and tags
without it, and teachers it cannot learn from are refused in one line."""

import re
import shutil

import pytest
import torch

from seqkit import Tagger, api
from seqkit.data.readers import read_atis_split
from seqkit.errors import ConfigError
from seqkit.heads import HeadOutput
from seqkit.tasks import get_task
from seqkit.text.vocab import Vocab
from seqkit.training.distillation import altered_copies, distillation_loss, soft_intents
from seqkit.training.teacher import load_teacher

from conftest import TINY_ATIS, write_recipe


class FixedTeacher(torch.nn.Module):
    """Intent logits (B, 3) of [0, 1, 2] for every sentence, whatever it reads."""

    def forward(self, batch):
        logits = torch.tensor([[0.0, 1.0, 2.0]]).expand(batch["lengths"].size(0), -1)
        return HeadOutput(None, None, {"intent_logits": logits})


def test_soft_intents_follow_the_student_intents_by_name_and_drop_those_it_lacks():
    teacher_intents = Vocab.labels([["flight", "airfare", "ground"]])
    student_intents = Vocab.labels([["ground", "meal", "flight"]])
    featurized = [{"words": [1, 2, 3]}, {"words": [4]}]
    distributions = soft_intents(FixedTeacher(), featurized, teacher_intents, student_intents, 1.0, "head.teacher")
    probabilities = torch.tensor([0.0, 1.0, 2.0]).softmax(dim=0)  # the teacher's, in its own column order
    by_name = dict(zip(teacher_intents.tokens, probabilities.tolist(), strict=True))
    # The student has no airfare, the teacher no meal.
    kept = torch.tensor([by_name.get(name, 0.0) for name in student_intents.tokens])
    assert kept.count_nonzero() == 2
    for distribution in distributions:
        assert torch.allclose(distribution, kept / kept.sum(), atol=1e-6)
    softer = soft_intents(FixedTeacher(), featurized, teacher_intents, student_intents, 4.0, "head.teacher")
    assert softer[0].max() < distributions[0].max()  # a higher temperature flattens the distribution


def test_a_teacher_sharing_no_intent_is_refused():
    with pytest.raises(ConfigError, match=r"^head\.teacher: the teacher knows none"):
        teacher, student = Vocab.labels([["a", "b", "c"]]), Vocab.labels([["d"]])
        soft_intents(FixedTeacher(), [{"words": [1]}], teacher, student, 2.0, "head.teacher")


def test_the_soft_loss_is_zero_at_the_teacher_and_pulls_the_student_towards_it():
    teacher = torch.tensor([[0.7, 0.2, 0.1]])
    matching = (teacher.log() * 2.0).requires_grad_()  # logits whose softmax at temperature 2 is the teacher's
    assert distillation_loss(matching, teacher, 2.0).item() == pytest.approx(0.0, abs=1e-6)
    student = torch.zeros(1, 3, requires_grad=True)
    distillation_loss(student, teacher, 2.0).backward()
    assert student.grad[0, 0] < 0 < student.grad[0, 2]  # a step against the gradient raises the teacher's favourite


def test_a_student_learns_from_a_teacher_run_and_tags_without_it(tmp_path):
    teacher_run = api.train(None, write_recipe(tmp_path), data_dir=TINY_ATIS, out=tmp_path / "teacher",
                            show_progress=False)  # fmt: skip
    task = get_task("slot-filling")
    recipe = api.load_recipe(None, write_recipe(tmp_path, head={"teacher": str(teacher_run), "distill_temperature": 1}))
    train = read_atis_split(TINY_ATIS / "train")
    vocabularies = task.build_vocabularies(recipe, train)
    featurized = [{} for _ in train]
    token_lists = [list(s.tokens) for s in train]
    task.attach_teacher_intents(recipe, vocabularies, token_lists, featurized, load_teacher(str(teacher_run)))
    # At temperature 1 each distribution is the teacher's own: its most likely intent, with the probability that
    # the teacher's predictor reports for the sentence.
    predictions = Tagger.load(teacher_run).tag([list(s.tokens) for s in train], is_split_into_words=True)
    intents = vocabularies["intents"].tokens
    for example, prediction in zip(featurized, predictions, strict=True):
        distribution = example["teacher_intent"]  # (C_intents,)
        assert distribution.sum().item() == pytest.approx(1.0, abs=1e-5)
        assert intents[int(distribution.argmax())] == prediction.intent
        assert distribution.max().item() == pytest.approx(prediction.intent_probability, abs=1e-5)
    (batch, *_) = task.training_batches(recipe, vocabularies, train, load_teacher(str(teacher_run)))(0)
    assert batch["teacher_intent"].shape == (batch["intent"].size(0), len(intents))  # (B, C_intents)

    student_run = api.train(None, write_recipe(tmp_path, head={"teacher": str(teacher_run)}), data_dir=TINY_ATIS,
                            out=tmp_path / "student", show_progress=False)  # fmt: skip
    shutil.rmtree(teacher_run)
    tagged = Tagger.load(student_run).tag("show me flights from boston to denver")
    assert tagged.intent is not None and len(tagged.tags) == 7


def test_the_teacher_changes_what_the_intent_learns(tmp_path):
    teacher_run = api.train(None, write_recipe(tmp_path), data_dir=TINY_ATIS, out=tmp_path / "teacher",
                            show_progress=False)  # fmt: skip
    task = get_task("slot-filling")
    train = read_atis_split(TINY_ATIS / "train")
    losses = []
    for weight in (0.0, 1.0):
        recipe = api.load_recipe(
            None, write_recipe(tmp_path, head={"teacher": str(teacher_run), "distill_weight": weight})
        )
        vocabularies = task.build_vocabularies(recipe, train)
        (batch, *_) = task.training_batches(recipe, vocabularies, train, load_teacher(str(teacher_run)))(0)
        torch.manual_seed(0)
        head = task.build_head(recipe, vocabularies, input_size=8)
        losses.append(head(torch.randn(batch["words"].size(0), batch["words"].size(1), 8), batch).loss.item())
    assert losses[0] != pytest.approx(losses[1], abs=1e-4)


def test_altered_copies_swap_words_for_words_that_carried_the_same_tag():
    sentences = [(["from", "boston", "to", "denver"], ["O", "B-from", "O", "B-to"]),
                 (["to", "dallas"], ["O", "B-to"])]  # fmt: skip
    copies = altered_copies(sentences, copies=3, rate=1.0, seed=0)
    assert len(copies) == 6 and [len(copy) for copy in copies] == [4, 4, 4, 2, 2, 2]
    pools = {"O": {"from", "to"}, "B-from": {"boston"}, "B-to": {"denver", "dallas"}}
    for copy, (_, tags) in zip(copies, [sentences[0]] * 3 + [sentences[1]] * 3, strict=True):
        assert all(word in pools[tag] for word, tag in zip(copy, tags, strict=True))
    assert any(copy[3] == "dallas" for copy in copies[:3]) or any(copy[1] == "denver" for copy in copies[3:])
    assert altered_copies(sentences, 3, 1.0, seed=0) == copies  # the seed fixes them
    assert altered_copies(sentences, 2, 0.0, seed=0) == [sentences[0][0]] * 2 + [sentences[1][0]] * 2


def test_teacher_labelled_copies_carry_the_teachers_tags_and_intent(tmp_path):
    teacher_run = api.train(None, write_recipe(tmp_path), data_dir=TINY_ATIS, out=tmp_path / "teacher",
                            show_progress=False)  # fmt: skip
    task = get_task("slot-filling")
    head = {"teacher": str(teacher_run), "teacher_copies": 2, "teacher_swap_rate": 0.5}
    recipe = api.load_recipe(None, write_recipe(tmp_path, head=head))
    train = read_atis_split(TINY_ATIS / "train")
    vocabularies = task.build_vocabularies(recipe, train)
    copies = task.teacher_labelled_copies(recipe, vocabularies, train, load_teacher(str(teacher_run)))
    assert len(copies) == 2 * len(train)
    words = vocabularies["words"]
    token_lists = [[words.token(index) for index in copy["words"]] for copy in copies]
    assert token_lists != [list(s.tokens) for s in train for _ in range(2)]  # some words were swapped
    # Each copy's labels are what the teacher itself tags and predicts for it.
    tagged = Tagger.load(teacher_run).tag(token_lists, is_split_into_words=True)
    intents, tags = vocabularies["intents"].tokens, vocabularies["tags"].tokens
    for copy, teacher_says in zip(copies, tagged, strict=True):
        assert [tags[index] for index in copy["tags"]] == teacher_says.tags
        assert intents[copy["intent"]] == teacher_says.intent
    batches = task.training_batches(recipe, vocabularies, train, load_teacher(str(teacher_run)))(0)
    assert sum(batch["lengths"].size(0) for batch in batches) == 3 * len(train)


@pytest.mark.parametrize(
    ("head", "message"),
    [
        ({"intent": False}, r"head\.teacher: .* needs head\.intent: true"),
        ({"intent_pooling": "tokens"}, r"head\.teacher: .* intent_pooling other than tokens"),
        ({"teacher": None, "teacher_copies": 1}, r"head\.teacher_copies: .* set head\.teacher too"),
    ],
)
def test_settings_a_teacher_cannot_train_are_refused(tmp_path, head, message):
    with pytest.raises(ConfigError, match=message):
        api.load_recipe(None, write_recipe(tmp_path, head={"teacher": str(tmp_path), **head}))


def test_a_missing_teacher_or_one_without_an_intent_is_refused_naming_the_setting(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(ConfigError, match="^" + re.escape(f"head.teacher: {missing} is neither a run dir")):
        api.train(None, write_recipe(tmp_path, head={"teacher": str(missing)}), data_dir=TINY_ATIS,
                  out=tmp_path / "student", show_progress=False)  # fmt: skip
    no_intent = api.train(None, write_recipe(tmp_path, head={"intent": False}), data_dir=TINY_ATIS,
                          out=tmp_path / "no-intent", show_progress=False)  # fmt: skip
    with pytest.raises(ConfigError, match=r"^head\.teacher: .* holds no slot-filling model with an intent"):
        api.train(None, write_recipe(tmp_path, head={"teacher": str(no_intent)}), data_dir=TINY_ATIS,
                  out=tmp_path / "student", show_progress=False)  # fmt: skip
