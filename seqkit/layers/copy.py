"""Copy attention, the pointer-generator of See, Liu and Manning (2017).

At each target position a switch p_gen = sigmoid(w . [context; decoder output; input embedding]) decides
between generating from the fixed target vocabulary and copying a source token, pointed at by the attention
weights:

    P(w) = p_gen * P_vocab(w) + (1 - p_gen) * sum of attention over source positions holding w

Source words missing from the target vocabulary get temporary ids V, V+1, ... per sentence (the "extended
vocabulary"), so the model can output a word it has never seen in training when it appears in the source.
"""

from __future__ import annotations

import torch
from torch import nn


class CopySwitch(nn.Module):
    def __init__(self, context_size: int, output_size: int, embedding_size: int):
        super().__init__()
        self.gate = nn.Linear(context_size + output_size + embedding_size, 1)

    def forward(
        self,
        vocabulary_logits: torch.Tensor,
        weights: torch.Tensor,
        context: torch.Tensor,
        decoder_output: torch.Tensor,
        input_embedding: torch.Tensor,
        source_copy_ids: torch.Tensor,
        extra_size: int,
    ) -> torch.Tensor:
        """Log-probabilities over the extended vocabulary, (B, U, V + extra_size).

        vocabulary_logits (B, U, V); weights (B, U, T); context (B, U, D_memory); decoder_output (B, U, D);
        input_embedding (B, U, E); source_copy_ids (B, T) in the extended vocabulary.
        """
        generate = self.switch(context, decoder_output, input_embedding)  # (B, U, 1)
        vocabulary = torch.softmax(vocabulary_logits, dim=-1) * generate  # (B, U, V)
        if extra_size:
            vocabulary = nn.functional.pad(vocabulary, (0, extra_size))  # (B, U, V + extra)
        index = source_copy_ids.unsqueeze(1).expand(-1, weights.size(1), -1)  # (B, U, T)
        mixed = vocabulary.scatter_add(2, index, weights * (1.0 - generate))
        # A word that is neither generable nor in the source has probability 0; keep its log finite.
        return torch.log(mixed.clamp_min(1e-12))

    def gold_log_probability(
        self,
        vocabulary_logits: torch.Tensor,
        weights: torch.Tensor,
        generate: torch.Tensor,
        source_copy_ids: torch.Tensor,
        gold: torch.Tensor,
    ) -> torch.Tensor:
        """log P(gold) of N target positions, the same value `forward` gives at the gold id, (N,).

        Teacher-forced training needs only the gold word's probability, not the whole extended distribution:
        one log-sum-exp over the vocabulary and a gather, instead of a softmax, a padded copy, a scatter and
        a log over (N, V + extra) and their backward passes. vocabulary_logits (N, V); weights (N, T);
        generate (N, 1) from `switch`; source_copy_ids (N, T); gold (N,) extended ids.
        """
        size = vocabulary_logits.size(-1)
        in_vocabulary = gold < size  # (N,)
        gold_logit = vocabulary_logits.gather(1, gold.clamp(max=size - 1).unsqueeze(1)).squeeze(1)  # (N,)
        generated = torch.exp(gold_logit - torch.logsumexp(vocabulary_logits, dim=-1)) * in_vocabulary  # (N,)
        copied = (weights * (source_copy_ids == gold.unsqueeze(1))).sum(dim=-1)  # (N,)
        generating = generate.squeeze(-1)  # (N,) p_gen
        mixed = generating * generated + (1.0 - generating) * copied
        return torch.log(mixed.clamp_min(1e-12))

    def switch(self, context, decoder_output, input_embedding) -> torch.Tensor:
        """p_gen in (0, 1): (..., 1)."""
        return torch.sigmoid(self.gate(torch.cat([context, decoder_output, input_embedding], dim=-1)))
