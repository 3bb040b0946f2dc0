"""End-to-end memory network (Sukhbaatar, Szlam, Weston and Fergus, "End-To-End Memory Networks", NIPS 2015).

The story's sentences are written into memory twice, as input vectors m_i (matrix A) and output vectors c_i
(matrix C); the question becomes the controller state u (matrix B). Each of K hops reads the memory softly:

    p = softmax(u . m_i)        o = sum_i p_i c_i        u <- u + o   (layer-wise tying: u <- H u + o)

and the answer is softmax(W u) after the last hop. A sentence vector is the sum of its word vectors, either
plainly (bag of words) or weighted by the position encoding l_kj = 1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (dJ)
(word j of J, dimension k of d; the authors' code, centred on 1), so that word order counts. Temporal
encoding adds a learned vector per memory age T_A(i), T_C(i), where i = 0 is the most recent sentence.
Adjacent tying shares A^{k+1} = C^k, B = A^1 and W^T = C^K; layer-wise tying shares one A and one C across
hops. Linear start trains first with the hop softmaxes
removed (`linear_attention`), which the task switches off once validation loss stops falling.

Gated hops (Liu and Perez, "Gated End-to-End Memory Networks", EACL 2017) replace the sum u + o by a
highway-style mix, so that each hop learns, per dimension and per question, how much of what it read to take:

    T = sigmoid(W_T u + b_T)        u <- o * T + u * (1 - T)     (layer-wise tying: H u in place of u)

The paper tries the gate weights hop-specific (W_T^k, b_T^k; `gated`) and global (one W_T, b_T for every hop;
`gated_shared`), both beside adjacent tying of the embeddings.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional

from seqkit.heads import HeadOutput

TYINGS = ("adjacent", "layerwise")
SENTENCE_ENCODINGS = ("bag_of_words", "position")
# "none": u <- u + o; "gated": one gate per hop; "gated_shared": one gate read by every hop.
HOP_GATES = ("none", "gated", "gated_shared")


def position_encoding(lengths: torch.Tensor, width: int, dimension: int) -> torch.Tensor:
    """Position-encoding weights l_kj for sentences of `lengths` words: (...) -> (..., width, dimension).

    Word j (1-based) of a J-word sentence gets l_kj = 1 + 4 (k - (d+1)/2)(j - (J+1)/2) / (d J) at dimension
    k (1-based); positions past the sentence's end get 0, so padding never contributes. This is the authors'
    released code (MemN2N-babi-matlab), not the paper's printed (1 - j/J) - (k/d)(1 - 2j/J): both weigh word
    order the same way, but the printed one is centred on 1/2, which halves every sentence vector. With the
    paper's init (std 0.1) that left the yes/no task (6) at chance: its answer needs the product of a
    question word and a story word (same place?), a signal too weak at half scale to leave the symmetric start.
    """
    j = torch.arange(1, width + 1, dtype=torch.float32, device=lengths.device)  # (L,)
    k = torch.arange(1, dimension + 1, dtype=torch.float32, device=lengths.device)  # (d,)
    sentence_length = lengths.clamp(min=1).to(torch.float32)[..., None, None]  # (..., 1, 1)
    centred_word = j[:, None] - (sentence_length + 1) / 2  # (..., L, 1)
    centred_dimension = k - (dimension + 1) / 2  # (d,)
    weights = 1 + 4 * centred_word * centred_dimension / (dimension * sentence_length)  # (..., L, d)
    inside = j[:, None] <= lengths[..., None, None]  # (..., L, 1)
    return weights * inside


class MemoryNetwork(nn.Module):
    """bAbI reader: story (B, M, L), question (B, Lq) -> answer logits (B, V) and attention (B, K, M)."""

    def __init__(
        self,
        vocab_size: int,
        embedding_size: int,
        hops: int = 3,
        memory_size: int = 50,
        unused_slots_attend: bool = False,
        position_encoded: bool = True,
        temporal: bool = True,
        tying: str = "adjacent",
        linear_start: bool = False,
        pad_id: int = 0,
        init_std: float = 0.1,
        hop_gate: str = "none",
        gate_bias: float = 0.0,
    ):
        super().__init__()
        if tying not in TYINGS:
            raise ValueError(f"tying must be one of {TYINGS}, got {tying!r}")
        if hop_gate not in HOP_GATES:
            raise ValueError(f"hop_gate must be one of {HOP_GATES}, got {hop_gate!r}")
        if hops < 1:
            raise ValueError("a memory network needs at least one hop")
        self.hops = hops
        self.memory_size = memory_size
        self.unused_slots_attend = unused_slots_attend
        self.embedding_size = embedding_size
        self.position_encoded = position_encoded
        self.temporal = temporal
        self.tying = tying
        self.hop_gate = hop_gate
        self.pad_id = pad_id
        # Adjacent tying: K + 1 word matrices; hop k reads with A^k = embeddings[k-1], C^k = embeddings[k],
        # the question uses B = embeddings[0], the answer W^T = embeddings[K]. Layer-wise: B, A, C, then W.
        count = hops + 1 if tying == "adjacent" else 3
        self.embeddings = nn.ModuleList(
            nn.Embedding(vocab_size, embedding_size, pad_id) for _ in range(count)
        )
        # Time matrices go with the memory matrices only (the question has no age): T_A^k, T_C^k.
        time_count = (hops + 1 if tying == "adjacent" else 2) if temporal else 0
        self.times = nn.ModuleList(nn.Embedding(memory_size, embedding_size) for _ in range(time_count))
        self.output = nn.Linear(embedding_size, vocab_size, bias=False) if tying == "layerwise" else None
        self.mapping = nn.Linear(embedding_size, embedding_size, bias=False) if tying == "layerwise" else None
        # Saved with the weights: the task turns the hop softmaxes on when linear start ends.
        self.register_buffer("linear_attention", torch.tensor(linear_start))
        self.register_buffer("linear_start_done", torch.tensor(False))
        self.register_buffer("linear_epochs", torch.tensor(0))
        self.register_buffer("best_linear_loss", torch.tensor(float("inf")))
        # a_k of the position encoding, made once rather than five times a step; not saved with the weights.
        self.register_buffer("dimension_factors", self._dimension_factors(torch.device("cpu")), persistent=False)
        # Every word matrix the hops read the story with (adjacent hops share one), read in one pass per batch.
        self.story_matrices = sorted({index for hop in range(hops) for index in self._matrices(hop)})
        for parameter in self.parameters():
            nn.init.normal_(parameter, std=init_std)
        for embedding in self.embeddings:
            embedding.weight.data[pad_id].zero_()
        # Made after the draws above, so that a gated network starts from the same embeddings as an ungated one
        # of the same seed, and an ungated one has no gate parameters (its saved weights are unchanged).
        gate_count = {"none": 0, "gated": hops, "gated_shared": 1}[hop_gate]
        self.gates = nn.ModuleList(nn.Linear(embedding_size, embedding_size) for _ in range(gate_count))
        for gate in self.gates:
            nn.init.normal_(gate.weight, std=init_std)
            # b_T = 0 with small W_T gives T close to 1/2: u <- (u + o) / 2, the ungated update at half length.
            # A negative bias starts the hops mostly skipped (T -> 0, the highway networks' carry bias), a
            # positive one starts each hop replacing the state with what it read (T -> 1); no bias reproduces
            # u + o itself, whose weights sum to 2.
            nn.init.constant_(gate.bias, gate_bias)

    def _matrices(self, hop: int) -> tuple[int, int]:
        """Indices (A, C) of the word (and time) matrices read at hop `hop` (0-based)."""
        return (hop, hop + 1) if self.tying == "adjacent" else (1, 2)

    def _word_weights(self, words: torch.Tensor) -> torch.Tensor | None:
        """Each word's centred position (j - (J+1)/2) / J in its sentence, (..., L), 0 at padding; None for a
        bag of words.

        The position encoding factors as l_kj = 1 + a_k b_j, with a_k = 4 (k - (d+1)/2) / d and b_j these
        weights, so a sentence vector is sum_j E w_j + a * sum_j b_j E w_j: two embedding_bag sums, which never
        build the (..., L, d) tensor of weighted word vectors. That tensor and its backward pass took half of a
        training step (position_encoding below keeps the formula whole, as the reference it is tested against).
        """
        if not self.position_encoded:
            return None
        lengths = (words != self.pad_id).sum(dim=-1, keepdim=True)  # (..., 1)
        position = torch.arange(1, words.shape[-1] + 1, dtype=torch.float32, device=words.device)  # (L,)
        sentence_length = lengths.clamp(min=1).to(torch.float32)  # (..., 1)
        centred = (position - (sentence_length + 1) / 2) / sentence_length  # (..., L)
        return centred * (position <= lengths)

    def _dimension_factors(self, device: torch.device) -> torch.Tensor:
        """a_k = 4 (k - (d+1)/2) / d for k = 1..d: (d,)."""
        k = torch.arange(1, self.embedding_size + 1, dtype=torch.float32, device=device)
        return 4 * (k - (self.embedding_size + 1) / 2) / self.embedding_size

    def _sentences(self, indices: list[int], words: torch.Tensor, weights: torch.Tensor | None) -> list[torch.Tensor]:
        """Sentence vectors of (..., L) word ids with each of the word matrices `indices`: a list of (..., d).

        The matrices are read in one pass over the words: their tables side by side make one (V, n d) table.
        embedding_bag's cost is mostly per word id (and its backward pass sorts the ids), not per number, so
        reading the story once for all the matrices the hops use, instead of once per matrix, saves most of
        its time."""
        tables = [self.embeddings[index].weight for index in indices]
        table = torch.cat(tables, dim=1) if len(tables) > 1 else tables[0]  # (V, n d)
        flat = words.reshape(-1, words.shape[-1])  # (N, L)
        vectors = functional.embedding_bag(flat, table, mode="sum", padding_idx=self.pad_id)  # (N, n d)
        if weights is not None:
            ordered = functional.embedding_bag(
                flat, table, mode="sum", per_sample_weights=weights.reshape(flat.shape), padding_idx=self.pad_id
            )  # (N, n d): sum_j b_j E w_j
            vectors = vectors + self.dimension_factors.repeat(len(tables)) * ordered
        vectors = vectors.reshape(*words.shape[:-1], table.size(1))  # (..., n d)
        return list(vectors.split(self.embedding_size, dim=-1))  # n x (..., d)

    def _memories(self, batch: dict[str, torch.Tensor]) -> dict[int, torch.Tensor]:
        """The story's memory vectors (B, M, d) under each matrix the hops read, by matrix index."""
        indices = self.story_matrices
        story = self._sentences(indices, batch["story"], self._word_weights(batch["story"]))  # n x (B, M, d)
        memories = dict(zip(indices, story, strict=True))
        if self.temporal:
            for index in indices:
                time_index = index if self.tying == "adjacent" else index - 1
                memories[index] = memories[index] + self.times[time_index](batch["time"])  # (B, M, d)
        return memories

    def forward(self, batch: dict[str, torch.Tensor]) -> HeadOutput:
        """batch: story (B, M, L), time (B, M), memory_mask (B, M), question (B, Lq), optional answer (B,)."""
        if self.training and bool(self.linear_start_done) and bool(self.linear_attention):
            self.linear_attention.fill_(False)  # linear start has ended: re-insert the hop softmaxes
        mask = batch["memory_mask"].bool()  # (B, M)
        (state,) = self._sentences([0], batch["question"], self._word_weights(batch["question"]))  # (B, d)
        memories = self._memories(batch)
        attentions = []
        for hop in range(self.hops):
            input_index, output_index = self._matrices(hop)
            inputs, outputs = memories[input_index], memories[output_index]
            scores = torch.einsum("bmd,bd->bm", inputs, state)  # (B, M)
            if bool(self.linear_attention):
                weights = scores * mask
            else:
                weights = self._attention(scores, mask)  # (B, M)
            attentions.append(weights)
            read = torch.einsum("bm,bmd->bd", weights, outputs)  # (B, d)
            state = self._update(hop, state, read)  # (B, d)
        if self.output is not None:
            logits = self.output(state)  # (B, V)
        else:
            logits = state @ self.embeddings[-1].weight.T  # (B, V)
        logits = logits.masked_fill(self._pad_column(logits), -1e9)  # never answer <pad>
        loss = functional.cross_entropy(logits, batch["answer"]) if "answer" in batch else None
        return HeadOutput(loss, logits, {"attention": torch.stack(attentions, dim=1)})  # (B, K, M)

    def _update(self, hop: int, state: torch.Tensor, read: torch.Tensor) -> torch.Tensor:
        """The controller state after hop `hop` (0-based): state u (B, d) and what it read o (B, d) -> (B, d)."""
        carried = self.mapping(state) if self.mapping is not None else state  # (B, d)
        if not self.gates:
            return carried + read
        gate = self.gates[0 if self.hop_gate == "gated_shared" else hop]
        transform = torch.sigmoid(gate(state))  # (B, d): T^k(u^k), read from the state before the hop
        return read * transform + carried * (1 - transform)

    def _attention(self, scores: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Hop softmax of scores (B, M) over the real memories (mask (B, M)) -> weights (B, M)."""
        # A finite fill keeps a story without memories finite: its row becomes all zeros below.
        scores = scores.masked_fill(~mask, -1e9)
        if self.unused_slots_attend:
            # k unused slots of score 0 add k * exp(0) to the denominator: one extra column of score log k.
            unused = (self.memory_size - mask.sum(dim=1)).clamp(min=0).to(scores.dtype)  # (B,)
            scores = torch.cat([scores, unused.log().unsqueeze(1)], dim=1)  # (B, M + 1)
            return scores.softmax(dim=-1)[:, :-1] * mask
        return scores.softmax(dim=-1) * mask

    def _pad_column(self, logits: torch.Tensor) -> torch.Tensor:
        column = torch.zeros(logits.shape[-1], dtype=torch.bool, device=logits.device)
        column[self.pad_id] = True
        return column
