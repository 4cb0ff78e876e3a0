"""Stratified, deterministic train/dev/test splits."""

from collections import Counter

from eventlens.training.data import Example
from eventlens.training.splits import stratified_split


def corpus():
    labels = ["A"] * 60 + ["B"] * 30 + ["C"] * 10
    return [Example(f"{lang}-{i}", lang, "t", [labels[i]] if i % 5 else [], []) for lang in ("en", "fr") for i in range(100)]


def test_ratios_per_language_and_label():
    splits = stratified_split(corpus())
    assert {k: len(v) for k, v in splits.items()} == {"train": 150, "dev": 20, "test": 30}
    for lang in ("en", "fr"):
        assert Counter(e.lang for e in splits["test"])[lang] == 15
    test_labels = Counter(l for e in splits["test"] for l in e.events)
    assert test_labels["A"] >= 6 and test_labels["B"] >= 3 and test_labels["C"] >= 1


def test_deterministic_and_disjoint():
    a, b = stratified_split(corpus()), stratified_split(list(reversed(corpus())))
    assert {k: [e.id for e in v] for k, v in a.items()} == {k: [e.id for e in v] for k, v in b.items()}
    ids = [e.id for rows in a.values() for e in rows]
    assert len(ids) == len(set(ids)) == 200
