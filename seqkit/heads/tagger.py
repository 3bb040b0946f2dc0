"""The BiLSTM tagger with joint intent classification and an optional CRF.

A recurrent layer reads the encoded sentence in both directions; each position's output scores every slot
tag (Graves 2012; Huang, Xu and Yu 2015 add the CRF), and the sentence as a whole, pooled over time, scores
the intent (joint models as in Liu and Lane 2016). Slot and intent losses are added, so the shared recurrent
layer learns from both. With the CRF, tags are decoded jointly by Viterbi under BIO constraints; without it,
each position takes its most likely tag.

The slot loss is summed over a sentence's tokens (the CRF's negative log-likelihood is a per-sentence quantity
too) and both losses are averaged over the batch.
"""

from __future__ import annotations

import torch
from torch import nn

from seqkit.heads import HeadOutput
from seqkit.layers.crf import CRF


class TaggerHead(nn.Module):
    def __init__(
        self,
        context: nn.Module,
        num_tags: int,
        num_intents: int = 0,
        use_crf: bool = True,
        dropout: float = 0.0,
        intent_weight: float = 1.0,
    ):
        """`context` maps ((B, T, D_in), (B,)) to ((B, T, D), (B, D)) and exposes `output_dim` = D."""
        super().__init__()
        self.context = context
        self.dropout = nn.Dropout(dropout)
        self.slot_output = nn.Linear(context.output_dim, num_tags)
        # The intent reads the max over time of the outputs beside the final states.
        self.intent_output = nn.Linear(2 * context.output_dim, num_intents) if num_intents else None
        self.crf = CRF(num_tags) if use_crf else None
        self.intent_weight = intent_weight

    def forward(self, encoded: torch.Tensor, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """encoded (B, T, D_in); batch["lengths"] (B,); optional targets batch["tags"] (B, T), batch["intent"] (B,)."""
        lengths = batch["lengths"]
        mask = torch.arange(encoded.size(1), device=encoded.device).unsqueeze(0) < lengths.unsqueeze(1)  # (B, T)
        outputs, final = self.context(encoded, lengths)  # (B, T, D), (B, D)
        outputs = self.dropout(outputs)
        slot_logits = self.slot_output(outputs)  # (B, T, C_tags)
        extras = {"mask": mask}
        if self.intent_output is not None:
            pooled = outputs.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values  # (B, D)
            extras["intent_logits"] = self.intent_output(torch.cat([pooled, self.dropout(final)], dim=-1))
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
            if self.intent_output is not None and "intent" in batch:
                intent_loss = nn.functional.cross_entropy(extras["intent_logits"], batch["intent"])
                loss = loss + self.intent_weight * intent_loss
        return HeadOutput(loss, slot_logits, extras)

    def decode_tags(self, output: HeadOutput) -> list[list[int]]:
        """Best tag ids of each sentence, trimmed to its length."""
        mask = output.extras["mask"]
        if self.crf is not None:
            return self.crf.decode(output.logits, mask)
        best = output.logits.argmax(dim=-1)  # (B, T)
        return [row[: int(length)].tolist() for row, length in zip(best, mask.sum(dim=1), strict=True)]
