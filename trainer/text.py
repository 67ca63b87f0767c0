"""Text side: a word tokenizer built from the training captions, the small text transformer
trained with the DiT, and an optional frozen sentence-transformers encoder read from disk.

Both encoders map a list of captions to (tokens [B, L, Dc], mask [B, L], pooled [B, Dc]);
the empty caption "" is the unconditional prompt of classifier-free guidance.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import torch
from torch import nn

from simreel.trainer.model import sincos

_WORD = re.compile(r"[\u3400-\u9fff]|[^\W_]+|[^\w\s]")  # a CJK character, a word, or a punctuation mark


def words(text: str) -> list[str]:
    """Lower-cased words; Chinese splits into characters (captions come in en and zh)."""
    return _WORD.findall(text.lower())


class Tokenizer:
    """Word-level vocabulary. Id 0 pads, 1 is an unknown word, 2 starts every caption (so the
    empty caption still has one token to attend to)."""

    SPECIALS = ("<pad>", "<unk>", "<bos>")
    PAD, UNK, BOS = 0, 1, 2

    def __init__(self, vocab: list[str]):
        if tuple(vocab[:3]) != self.SPECIALS:
            raise ValueError("a tokenizer vocabulary starts with <pad>, <unk>, <bos>")
        self.vocab = list(vocab)
        self.index = {w: i for i, w in enumerate(self.vocab)}

    @classmethod
    def build(cls, captions, min_count: int = 1, max_size: int = 8192) -> "Tokenizer":
        """From training captions: the words seen at least `min_count` times, most frequent first."""
        counts = Counter(w for c in captions for w in words(c))
        kept = sorted((w for w, n in counts.items() if n >= min_count), key=lambda w: (-counts[w], w))
        return cls(list(cls.SPECIALS) + kept[: max_size - len(cls.SPECIALS)])

    def __len__(self) -> int:
        return len(self.vocab)

    def unknown(self, text: str) -> list[str]:
        """The words of `text` this vocabulary has never seen (they encode as <unk>; punctuation
        is not worth a warning)."""
        return [w for w in words(text) if w not in self.index and w[0].isalnum()]

    def encode(self, texts: list[str], length: int) -> tuple[torch.Tensor, torch.Tensor]:
        """-> ids [B, length] (truncated, padded) and mask [B, length] (True on real tokens)."""
        ids = torch.full((len(texts), length), self.PAD, dtype=torch.long)
        for i, text in enumerate(texts):
            row = [self.BOS] + [self.index.get(w, self.UNK) for w in words(text)]
            ids[i, : min(len(row), length)] = torch.tensor(row[:length])
        return ids, ids != self.PAD


class TextEncoder(nn.Module):
    """Token embedding + sin-cos positions + a few pre-norm transformer layers, trained with the DiT.

    Word embeddings start at unit scale, as large as the positions they are added to. At
    std 0.02 (the GPT habit) a token was 98% position: swapping a caption's colour word
    moved the demo model's prediction by less than 1e-4, and samples ignored their captions.
    """

    def __init__(self, tokenizer: Tokenizer, width: int = 128, depth: int = 2, heads: int = 2, length: int = 48):
        super().__init__()
        self.tokenizer, self.length, self.width = tokenizer, length, width
        self.embed = nn.Embedding(len(tokenizer), width)
        layer = nn.TransformerEncoderLayer(width, heads, 4 * width, dropout=0.0, activation="gelu",
                                           batch_first=True, norm_first=True)
        self.layers = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(width)
        nn.init.normal_(self.embed.weight, std=1.0)

    def forward(self, captions: list[str], device=None):
        ids, mask = self.tokenizer.encode(captions, self.length)
        ids, mask = ids.to(device), mask.to(device)
        x = self.embed(ids) + sincos(torch.arange(self.length, device=device), self.width)
        x = self.norm(self.layers(x, src_key_padding_mask=~mask))
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True)
        return x, mask, pooled

    def flops_per_caption(self) -> float:
        """Training FLOPs for one caption: 6 x weights x tokens + attention products."""
        weights = sum(p.numel() for n, p in self.layers.named_parameters() if p.dim() == 2)
        depth = len(self.layers.layers)
        return 3.0 * (2 * weights * self.length + depth * 4 * self.length**2 * self.width)


class FrozenEncoder(nn.Module):
    """A sentence-transformers model read from a local directory and never trained.

    Nothing is downloaded: the directory must hold the model (as `SentenceTransformer.save`
    writes it). Its token embeddings are the context, its own pooling the sentence vector.
    """

    def __init__(self, path: str | Path, length: int = 48):
        super().__init__()
        path = Path(path)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as e:
            raise RuntimeError(
                f"text encoder {str(path)!r} needs the sentence-transformers package, which is not installed; "
                "install it (pip install sentence-transformers) or use text_encoder=learned") from e
        if not (path / "modules.json").is_file():
            raise FileNotFoundError(f"{path} is not a local sentence-transformers model directory (no modules.json)")
        self.path, self.length = str(path), length
        st = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        st.max_seq_length = length
        st.requires_grad_(False).eval()
        self.width = (getattr(st, "get_embedding_dimension", None) or st.get_sentence_embedding_dimension)()
        self.__dict__["st"] = st  # not a submodule: its weights stay out of the checkpoint and the optimiser

    @torch.no_grad()
    def forward(self, captions: list[str], device=None):
        st = self.st.to(device)
        features = st.tokenize(captions)
        features = {k: v.to(device) if torch.is_tensor(v) else v for k, v in features.items()}
        out = st.forward(features)  # the model's own pooling gives the sentence vector
        return out["token_embeddings"], features["attention_mask"].bool(), out["sentence_embedding"]

    def flops_per_caption(self) -> float:
        return 0.0  # frozen: forward only, and not the model being trained
