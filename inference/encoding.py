"""Text → model inputs with character offsets, shared by training and inference.

Uses only the ``tokenizers`` library, so the runtime and the training pipeline tokenise identically.
Long texts are cut into overlapping windows of at most ``max_length`` tokens (special tokens
included); each window keeps offsets into the original text.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

#: Offsets of tokens that cover no characters (special tokens, lone word-boundary markers).
NO_OFFSET = (0, 0)


@dataclass(frozen=True)
class Window:
    """One model input: token ids, character offsets (``(0, 0)`` for non-text tokens), and where the
    window's content tokens start among the text's content tokens."""

    input_ids: list[int]
    offsets: list[tuple[int, int]]
    token_start: int
    content_slice: slice

    @property
    def content_mask(self) -> np.ndarray:
        """True for tokens that cover characters of the text."""
        return np.array([e > s for s, e in self.offsets], dtype=bool)


class TextEncoder:
    """Tokenises text into windows with whitespace-trimmed character offsets."""

    def __init__(self, tokenizer: Tokenizer, max_length: int = 128, stride: int = 32):
        if max_length < 8:
            raise ValueError(f"max_length must be at least 8, got {max_length}")
        self.tokenizer = tokenizer
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.max_length = max_length
        self.prefix_ids, self.suffix_ids = self._special_affixes(tokenizer)
        self.content_length = max_length - len(self.prefix_ids) - len(self.suffix_ids)
        self.stride = min(stride, self.content_length // 2)
        self.pad_id = _pad_id(tokenizer)

    @classmethod
    def from_file(cls, path: str | Path, max_length: int = 128, stride: int = 32) -> "TextEncoder":
        """Load a Hugging Face ``tokenizer.json``."""
        return cls(Tokenizer.from_file(str(path)), max_length=max_length, stride=stride)

    @staticmethod
    def _special_affixes(tokenizer: Tokenizer) -> tuple[list[int], list[int]]:
        plain = tokenizer.encode("a", add_special_tokens=False).ids
        full = tokenizer.encode("a", add_special_tokens=True).ids
        for i in range(len(full) - len(plain) + 1):
            if full[i : i + len(plain)] == plain:
                return full[:i], full[i + len(plain) :]
        raise ValueError("cannot locate the special tokens the tokenizer adds")

    def tokenize(self, text: str) -> tuple[list[int], list[tuple[int, int]]]:
        """Content token ids and whitespace-trimmed offsets (no special tokens, no truncation)."""
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        return encoding.ids, [_trim(text, s, e) for s, e in encoding.offsets]

    def encode(self, text: str) -> list[Window]:
        """All windows needed to cover ``text``; consecutive windows overlap by ``stride`` tokens."""
        ids, offsets = self.tokenize(text)
        step = self.content_length - self.stride
        starts = [0] if len(ids) <= self.content_length else list(range(0, len(ids) - self.stride, step))
        windows = []
        for start in starts:
            chunk = slice(start, start + self.content_length)
            n_content = len(ids[chunk])
            windows.append(
                Window(
                    input_ids=self.prefix_ids + ids[chunk] + self.suffix_ids,
                    offsets=[NO_OFFSET] * len(self.prefix_ids) + offsets[chunk] + [NO_OFFSET] * len(self.suffix_ids),
                    token_start=start,
                    content_slice=slice(len(self.prefix_ids), len(self.prefix_ids) + n_content),
                )
            )
        return windows

    def batch(self, windows: list[Window]) -> dict[str, np.ndarray]:
        """Pad windows into ``input_ids`` and ``attention_mask`` int64 arrays."""
        length = max(len(w.input_ids) for w in windows)
        input_ids = np.full((len(windows), length), self.pad_id, dtype=np.int64)
        attention_mask = np.zeros((len(windows), length), dtype=np.int64)
        for row, window in enumerate(windows):
            input_ids[row, : len(window.input_ids)] = window.input_ids
            attention_mask[row, : len(window.input_ids)] = 1
        return {"input_ids": input_ids, "attention_mask": attention_mask}


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else NO_OFFSET


def _pad_id(tokenizer: Tokenizer) -> int:
    for token in ("<pad>", "[PAD]"):
        token_id = tokenizer.token_to_id(token)
        if token_id is not None:
            return token_id
    return 0
