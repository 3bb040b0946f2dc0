"""The BiLSTM tagger with joint intent classification and an optional CRF.

A recurrent layer reads the encoded sentence in both directions; each position's output scores every slot
tag (Graves 2012; Huang, Xu and Yu 2015 add the CRF), and the sentence as a whole, pooled over time, scores
the intent (joint models as in Liu and Lane 2016). Slot and intent losses are added, so the shared recurrent
layer learns from both. With the CRF, tags are decoded jointly by Viterbi under BIO constraints; without it,
each position takes its most likely tag.

The intent reads the final states of the recurrent layer beside a pooled summary of its outputs, chosen by
`intent_pooling`: "max" (the elementwise maximum over time), "attention" (the self-attentive weighted sum of
Liu and Lane 2016: each position is scored, the scores soft-maxed over the real positions), or
"max+attention" (both, concatenated). Pooling skips padding, so a sentence scores the same alone or in a batch.
With "tokens" the intent is instead predicted at every position from that position's output and trained there
(the token-level intent detection of Qin et al. 2019); the sentence's intent distribution is the average of its
tokens' distributions, a soft vote in which no single state has to carry the whole utterance.
With an `intent_context` (head.intent_encoder) the intent reads a recurrent layer of its own over the same
encoded input, and the two tasks share only the input encoder.
With a `slot_gate` (Goo et al. 2018, seqkit/layers/slot_gate.py) the vector the intent is scored from also
gates what each position adds to its state before the tag scores, so the intent informs every tag directly.

The slot loss is summed over a sentence's tokens (the CRF's negative log-likelihood is a per-sentence quantity
too) and both losses are averaged over the batch.
"""

from __future__ import annotations

import torch
from torch import nn

from seqkit.heads import HeadOutput
from seqkit.layers.crf import CRF
from seqkit.layers.pooling import AttentionPooling, max_pool
from seqkit.layers.slot_gate import SlotGate
from seqkit.training.distillation import distillation_loss

INTENT_POOLINGS = ("max", "attention", "max+attention", "tokens")


class TaggerHead(nn.Module):
    def __init__(
        self,
        context: nn.Module,
        num_tags: int,
        num_intents: int = 0,
        use_crf: bool = True,
        dropout: float = 0.0,
        intent_weight: float = 1.0,
        intent_pooling: str = "max",
        intent_attention_size: int = 100,
        intent_context: nn.Module | None = None,
        slot_gate: str = "none",
        distill_weight: float = 0.0,
        distill_temperature: float = 1.0,
    ):
        """`context` maps ((B, T, D_in), (B,)) to ((B, T, D), (B, D)) and exposes `output_dim` = D.

        `intent_context`, when given, is a second recurrent layer of the same output width that the intent reads
        instead of `context` (the two tasks then share only the input encoder). `slot_gate`: "none", "full" (slot
        attention and the gate) or "intent" (the gate on each position's own state); it needs a pooled intent.
        """
        super().__init__()
        self.context = context
        self.dropout = nn.Dropout(dropout)
        if intent_pooling not in INTENT_POOLINGS:
            raise ValueError(f"unknown intent pooling {intent_pooling!r} (choose from: {', '.join(INTENT_POOLINGS)})")
        self.intent_pooling = intent_pooling
        self.slot_output = nn.Linear(context.output_dim, num_tags)
        # The intent reads each pooled summary of the outputs beside the final states, or, voting by tokens,
        # one position's output at a time.
        self.intent_summaries = intent_pooling.split("+")
        self.intent_by_tokens = intent_pooling == "tokens"
        width = context.output_dim if self.intent_by_tokens else (len(self.intent_summaries) + 1) * context.output_dim
        self.intent_output = nn.Linear(width, num_intents) if num_intents else None
        self.crf = CRF(num_tags) if use_crf else None
        self.intent_weight = intent_weight
        self.distill_weight, self.distill_temperature = distill_weight, distill_temperature
        # Created last and only when asked for, so that "max" draws the same initial weights as before it existed.
        self.intent_attention = None
        if num_intents and "attention" in self.intent_summaries:
            self.intent_attention = AttentionPooling(context.output_dim, intent_attention_size)
        self.intent_context = intent_context if num_intents else None
        self.slot_gate = None
        if slot_gate != "none":
            if not num_intents or self.intent_by_tokens:
                raise ValueError(f"slot gate {slot_gate!r}: the gate reads an intent pooled over time")
            self.slot_gate = SlotGate(context.output_dim, width, attention=slot_gate == "full")

    def forward(self, encoded: torch.Tensor, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """encoded (B, T, D_in); batch["lengths"] (B,); optional targets batch["tags"] (B, T), batch["intent"] (B,)."""
        lengths = batch["lengths"]
        mask = torch.arange(encoded.size(1), device=encoded.device).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
        outputs, final = self.context(encoded, lengths)  # (B, T, D), (B, D)
        outputs = self.dropout(outputs)
        # The intent reads the tagger's states, or those of its own recurrent layer.
        intent_outputs, intent_final = outputs, final
        if self.intent_context is not None:
            intent_outputs, intent_final = self.intent_context(encoded, lengths)  # (B, T, D), (B, D)
            intent_outputs = self.dropout(intent_outputs)
        if self.intent_output is not None and not self.intent_by_tokens:
            intent_final = self.dropout(intent_final)
        slot_logits, intent_logits, token_intent_logits = self.scores(outputs, intent_outputs, intent_final, mask)
        extras = {"mask": mask}
        if intent_logits is not None:
            extras["intent_logits"] = intent_logits
        loss = None
        if "tags" in batch:
            tags = batch["tags"]
            if self.crf is not None:
                loss = self.crf.negative_log_likelihood(slot_logits, tags, mask).mean()
            else:
                per_token = nn.functional.cross_entropy(
                    slot_logits.transpose(1, 2), tags, ignore_index=-100, reduction="none"
                )  # (B, T)
                loss = per_token.sum(dim=1).mean()
            if token_intent_logits is not None and "intent" in batch:
                # Every real position learns the sentence's intent; summed per sentence like the slot loss.
                targets = batch["intent"].unsqueeze(1).expand(-1, mask.size(1)).masked_fill(~mask, -100)  # (B, T)
                per_token = nn.functional.cross_entropy(
                    token_intent_logits.transpose(1, 2), targets, ignore_index=-100, reduction="none"
                )  # (B, T)
                loss = loss + self.intent_weight * per_token.sum(dim=1).mean()
            elif intent_logits is not None and "intent" in batch:
                intent_loss = nn.functional.cross_entropy(intent_logits, batch["intent"])
                if "teacher_intent" in batch and self.distill_weight:
                    soft = distillation_loss(intent_logits, batch["teacher_intent"], self.distill_temperature)
                    intent_loss = (1 - self.distill_weight) * intent_loss + self.distill_weight * soft
                loss = loss + self.intent_weight * intent_loss
        return HeadOutput(loss, slot_logits, extras)

    def scores(
        self, outputs: torch.Tensor, intent_outputs: torch.Tensor, intent_final: torch.Tensor, mask: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None, torch.Tensor | None]:
        """The tagger's states (B, T, D), the intent's states (B, T, D) and final states (B, D), mask (B, T) ->
        slot logits (B, T, C_tags), intent logits (B, C_intents) or None, and the per-token intent logits
        (B, T, C_intents) when voting by tokens. Training and the ONNX export both score through here."""
        intent_logits = token_intent_logits = intent_vector = None
        if self.intent_output is not None and self.intent_by_tokens:
            token_intent_logits = self.intent_output(intent_outputs)  # (B, T, C_intents)
            intent_logits = soft_vote(token_intent_logits, mask)
        elif self.intent_output is not None:
            intent_vector = self.intent_features(intent_outputs, intent_final, mask)  # (B, F)
            intent_logits = self.intent_output(intent_vector)
        if self.slot_gate is not None:
            outputs = self.slot_gate(outputs, intent_vector, mask)  # (B, T, D)
        return self.slot_output(outputs), intent_logits, token_intent_logits

    def intent_features(self, outputs: torch.Tensor, final: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """outputs (B, T, D), final states (B, D), mask (B, T) -> what the intent is scored from: each pooled
        summary of the outputs beside the final states, (B, F)."""
        summaries = []
        if "max" in self.intent_summaries:
            summaries.append(max_pool(outputs, mask))  # (B, D)
        if self.intent_attention is not None:
            summaries.append(self.intent_attention(outputs, mask)[0])  # (B, D)
        return torch.cat([*summaries, final], dim=-1)

    def decode_tags(self, output: HeadOutput) -> list[list[int]]:
        """Best tag ids of each sentence, trimmed to its length."""
        mask = output.extras["mask"]
        if self.crf is not None:
            return self.crf.decode(output.logits, mask)
        best = output.logits.argmax(dim=-1)  # (B, T)
        return [row[: int(length)].tolist() for row, length in zip(best, mask.sum(dim=1), strict=True)]


def soft_vote(token_logits: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """token_logits (B, T, C), mask (B, T) -> (B, C): the log of the mean of the real positions' distributions.

    A softmax of the result gives back that mean distribution, so callers read it like any intent logits.
    """
    probabilities = token_logits.softmax(dim=-1) * mask.unsqueeze(-1).to(token_logits.dtype)  # (B, T, C)
    mean = probabilities.sum(dim=1) / mask.sum(dim=1, keepdim=True).clamp(min=1).to(token_logits.dtype)  # (B, C)
    return mean.clamp(min=torch.finfo(mean.dtype).tiny).log()
