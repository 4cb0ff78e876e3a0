"""Post-processing in numpy: window merging, event thresholds, BIO span decoding, span attitudes.

Shared by the ONNX runtime and the PyTorch evaluation, so both decode exactly the same way.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from eventlens.inference.encoding import Window
from eventlens.inference.labels import ACTOR_TAGS, LabelSchema
from eventlens.inference.results import ActorResult, EventResult, TagResult

_B, _I = ACTOR_TAGS.index("B"), ACTOR_TAGS.index("I")


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    z = np.exp(x - x.max(axis=axis, keepdims=True))
    return z / z.sum(axis=axis, keepdims=True)


@dataclass
class TokenView:
    """Per-token outputs of a whole text, windows merged: offsets and logits of content tokens only."""

    offsets: np.ndarray  # (T, 2) character offsets
    actor_logits: np.ndarray  # (T, len(ACTOR_TAGS))
    attitude_logits: np.ndarray  # (T, n_attitudes)
    event_probs: np.ndarray  # (n_events,) max over windows


def merge_windows(
    windows: list[Window], event_logits: np.ndarray, actor_logits: list[np.ndarray], attitude_logits: list[np.ndarray]
) -> TokenView:
    """Merge one text's window outputs. Where windows overlap, each token is taken from the window in
    which it lies further from the edge (the split is the overlap's midpoint)."""
    offsets, actors, attitudes = [], [], []
    covered = 0  # content tokens already taken
    for k, window in enumerate(windows):
        content = window.content_slice
        n = content.stop - content.start
        end = window.token_start + n
        if k + 1 < len(windows):
            overlap_end = end
            end = (windows[k + 1].token_start + overlap_end + 1) // 2
        take = slice(content.start + covered - window.token_start, content.start + end - window.token_start)
        offsets.extend(window.offsets[take])
        actors.append(actor_logits[k][take])
        attitudes.append(attitude_logits[k][take])
        covered = end
    n_att = attitude_logits[0].shape[-1]
    return TokenView(
        offsets=np.array(offsets, dtype=np.int64).reshape(-1, 2),
        actor_logits=np.concatenate(actors) if actors else np.zeros((0, len(ACTOR_TAGS))),
        attitude_logits=np.concatenate(attitudes) if attitudes else np.zeros((0, n_att)),
        event_probs=sigmoid(np.asarray(event_logits)).max(axis=0),
    )


def decode_spans(view: TokenView, text: str) -> list[tuple[int, int]]:
    """Character spans from BIO tags (argmax). An ``I`` after ``O`` opens a span; edge punctuation
    is trimmed, so spans cover whole words like the annotation guidelines ask."""
    tags = view.actor_logits.argmax(axis=-1) if len(view.actor_logits) else np.zeros(0, dtype=int)
    spans, current = [], None
    for tag, (start, end) in zip(tags, view.offsets):
        if end <= start:
            continue
        if tag == _B or (tag == _I and current is None):
            if current:
                spans.append(current)
            current = [start, end]
        elif tag == _I:
            current[1] = end
        elif current:
            spans.append(current)
            current = None
    if current:
        spans.append(current)
    trimmed = (_trim_punctuation(text, int(s), int(e)) for s, e in spans)
    return [span for span in trimmed if span is not None]


def _trim_punctuation(text: str, start: int, end: int) -> tuple[int, int] | None:
    def is_edge(ch: str) -> bool:
        return ch.isspace() or unicodedata.category(ch).startswith("P")

    while start < end and is_edge(text[start]):
        start += 1
    while end > start and is_edge(text[end - 1]):
        end -= 1
    return (start, end) if end > start else None


def span_attitude_logits(view: TokenView, start: int, end: int) -> np.ndarray | None:
    """Attitude logits of a character span: the mean over the tokens it overlaps (None if none)."""
    if not len(view.offsets):
        return None
    inside = (view.offsets[:, 0] < end) & (view.offsets[:, 1] > start) & (view.offsets[:, 1] > view.offsets[:, 0])
    if not inside.any():
        return None
    return view.attitude_logits[inside].mean(axis=0)


def decode(
    text: str,
    view: TokenView,
    schema: LabelSchema,
    thresholds: np.ndarray,
    spans: list[tuple[int, int]] | None = None,
) -> TagResult:
    """Build the result for one text. ``spans`` (caller-given actors) replace the predicted ones."""
    events = [
        EventResult(label, round(float(p), 4))
        for label, p, t in zip(schema.events, view.event_probs, thresholds)
        if p >= t
    ]
    actors = []
    for start, end in decode_spans(view, text) if spans is None else spans:
        logits = span_attitude_logits(view, start, end)
        if logits is None:
            continue
        probs = softmax(logits)
        best = int(probs.argmax())
        actors.append(
            ActorResult(
                start=int(start),
                end=int(end),
                text=text[start:end],
                attitude=schema.attitudes[best],
                score=round(float(probs[best]), 4),
                scores={a: round(float(p), 4) for a, p in zip(schema.attitudes, probs)},
            )
        )
    return TagResult(
        text=text,
        events=events,
        actors=actors,
        event_scores={label: round(float(p), 4) for label, p in zip(schema.events, view.event_probs)},
    )
