"""Examples → training features: token ids plus event, BIO and attitude targets aligned through
fast-tokenizer character offsets. Heads a row did not annotate get masked targets, not negatives."""

from __future__ import annotations

from dataclasses import dataclass

from eventlens.inference.encoding import TextEncoder
from eventlens.inference.labels import ACTOR_TAGS, LabelSchema
from eventlens.training.data import Example
from eventlens.training.modeling import IGNORE_INDEX

_O, _B, _I = (ACTOR_TAGS.index(t) for t in ("O", "B", "I"))


@dataclass
class FeatureStats:
    """How many rows were truncated to the model's maximum length (never silent)."""

    rows: int = 0
    truncated: int = 0


def featurize(example: Example, encoder: TextEncoder, schema: LabelSchema) -> tuple[dict, bool]:
    """One example's features (the first window only) and whether the text had to be truncated."""
    windows = encoder.encode(example.text)
    window = windows[0]
    n = len(window.input_ids)
    event2id = schema.event2id
    event_labels = [0.0] * len(schema.events)
    for label in example.events or []:
        event_labels[event2id[label]] = 1.0

    actor_labels = [IGNORE_INDEX] * n
    attitude_labels = [IGNORE_INDEX] * n
    if example.actors is not None:
        attitude2id = schema.attitude2id
        content = [i for i, (s, e) in enumerate(window.offsets) if e > s]
        for i in content:
            actor_labels[i] = _O
        for span in example.actors:
            inside = [i for i in content if window.offsets[i][0] < span.end and window.offsets[i][1] > span.start]
            for rank, i in enumerate(inside):
                if actor_labels[i] != _O:  # a token shared by two spans stays with the first
                    continue
                actor_labels[i] = _B if rank == 0 else _I
                attitude_labels[i] = attitude2id[span.attitude]
    features = {
        "input_ids": window.input_ids,
        "attention_mask": [1] * n,
        "event_labels": event_labels,
        "event_mask": 1 if example.events is not None else 0,
        "actor_labels": actor_labels,
        "attitude_labels": attitude_labels,
    }
    return features, len(windows) > 1


def featurize_all(examples: list[Example], encoder: TextEncoder, schema: LabelSchema) -> tuple[list[dict], FeatureStats]:
    """Features for every example, with a truncation count."""
    stats = FeatureStats()
    rows = []
    for example in examples:
        features, truncated = featurize(example, encoder, schema)
        rows.append(features)
        stats.rows += 1
        stats.truncated += truncated
    return rows, stats


class Collator:
    """Pads a list of feature dicts into tensors (-100 for token targets, ``pad_id`` for ids)."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, rows: list[dict]):
        import torch

        length = max(len(r["input_ids"]) for r in rows)

        def pad(key: str, value: int) -> torch.Tensor:
            return torch.tensor([r[key] + [value] * (length - len(r[key])) for r in rows], dtype=torch.long)

        return {
            "input_ids": pad("input_ids", self.pad_id),
            "attention_mask": pad("attention_mask", 0),
            "actor_labels": pad("actor_labels", IGNORE_INDEX),
            "attitude_labels": pad("attitude_labels", IGNORE_INDEX),
            "event_labels": torch.tensor([r["event_labels"] for r in rows], dtype=torch.float32),
            "event_mask": torch.tensor([r["event_mask"] for r in rows], dtype=torch.float32),
        }
