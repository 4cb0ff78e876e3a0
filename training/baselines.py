"""Simple baselines every report shows beside the model, on the same split:
TF-IDF + logistic regression for events, the majority class for attitude on gold spans."""

from __future__ import annotations

import math
import re
from collections import Counter

import numpy as np
import torch

from eventlens.inference.labels import LabelSchema
from eventlens.training.data import Example
from eventlens.training.metrics import attitude_metrics, event_metrics, tune_thresholds


def _terms(text: str) -> list[str]:
    """Word unigrams and bigrams plus character 3-grams inside words (helps inflected languages)."""
    words = re.findall(r"\w+", text.lower())
    grams = [f"w:{w}" for w in words] + [f"b:{a} {b}" for a, b in zip(words, words[1:])]
    for w in words:
        padded = f"<{w}>"
        grams.extend(f"c:{padded[i:i + 3]}" for i in range(len(padded) - 2))
    return grams


class TfidfVectorizer:
    """Sublinear TF-IDF over :func:`_terms`, vocabulary from the training texts (min_df=2), L2-normalised."""

    def __init__(self, max_features: int = 50_000):
        self.max_features = max_features

    def fit(self, texts: list[str]) -> "TfidfVectorizer":
        df = Counter(term for text in texts for term in set(_terms(text)))
        kept = [t for t, c in df.most_common(self.max_features) if c >= 2]
        self.vocab = {t: i for i, t in enumerate(kept)}
        self.idf = np.array([math.log((1 + len(texts)) / (1 + df[t])) + 1 for t in kept], dtype=np.float32)
        return self

    def transform(self, texts: list[str]) -> torch.Tensor:
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            counts = Counter(self.vocab[t] for t in _terms(text) if t in self.vocab)
            if not counts:
                continue
            idx = np.fromiter(counts, dtype=np.int64)
            weights = (1 + np.log(np.fromiter(counts.values(), dtype=np.float32))) * self.idf[idx]
            weights /= np.linalg.norm(weights)
            rows.extend([r] * len(idx))
            cols.extend(idx.tolist())
            vals.extend(weights.tolist())
        return torch.sparse_coo_tensor([rows, cols], vals, (len(texts), len(self.vocab)), dtype=torch.float32, check_invariants=False).coalesce()


def tfidf_logreg_events(
    train: list[Example], dev: list[Example], test: list[Example], schema: LabelSchema, seed: int = 0, epochs: int = 300
) -> dict:
    """One-vs-rest logistic regression on TF-IDF features; thresholds tuned on dev like the model's."""
    torch.manual_seed(seed)
    train = [e for e in train if e.events is not None]
    vectorizer = TfidfVectorizer().fit([e.text for e in train])
    x = vectorizer.transform([e.text for e in train])
    y = torch.tensor([[float(l in e.events) for l in schema.events] for e in train])
    layer = torch.nn.Linear(x.shape[1], len(schema.events))
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.05, weight_decay=1e-5)
    for _ in range(epochs):
        optimizer.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy_with_logits(torch.sparse.mm(x, layer.weight.T) + layer.bias, y)
        loss.backward()
        optimizer.step()

    def probs(rows: list[Example]) -> np.ndarray:
        with torch.no_grad():
            return torch.sigmoid(torch.sparse.mm(vectorizer.transform([e.text for e in rows]), layer.weight.T) + layer.bias).numpy()

    dev_rows = [e for e in dev if e.events is not None]
    thresholds = tune_thresholds(dev_rows, list(probs(dev_rows)), schema) if dev_rows else np.full(len(schema.events), 0.5)
    test_rows = [e for e in test if e.events is not None]
    if not test_rows:
        return event_metrics([], [], schema.events)
    predicted = [[l for l, p, t in zip(schema.events, row, thresholds) if p >= t] for row in probs(test_rows)]
    return event_metrics([e.events for e in test_rows], predicted, schema.events)


def majority_attitude(train: list[Example], test: list[Example], schema: LabelSchema) -> dict:
    """Predict the most frequent training attitude for every gold span."""
    counts = Counter(s.attitude for e in train for s in e.actors or [])
    majority = counts.most_common(1)[0][0] if counts else schema.attitudes[0]
    gold = [s.attitude for e in test for s in e.actors or []]
    return {**attitude_metrics(gold, [majority] * len(gold), schema.attitudes), "majority": majority}


def baselines(train: list[Example], dev: list[Example], test: list[Example], schema: LabelSchema, seed: int = 0) -> dict:
    """Both baselines on one split."""
    return {
        "events_tfidf_logreg": tfidf_logreg_events(train, dev, test, schema, seed=seed),
        "attitude_majority": majority_attitude(train, test, schema),
    }
