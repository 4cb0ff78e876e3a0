"""Metric definitions checked against hand-computed values."""

import numpy as np
import pytest

from eventlens.inference.labels import LabelSchema
from eventlens.training.data import Example, Span
from eventlens.training.metrics import Prediction, attitude_metrics, compute_metrics, event_metrics, tune_thresholds

SCHEMA = LabelSchema(events=("A", "B", "C"), attitudes=("negative", "neutral", "positive"))


def test_event_micro_and_macro():
    gold = [["A"], ["A", "B"], []]
    pred = [["A"], ["B", "C"], ["A"]]
    m = event_metrics(gold, pred, SCHEMA.events)
    # A: tp1 fp1 fn1 -> F1 .5 ; B: tp1 -> 1.0 ; C: fp1, no support (left out of macro)
    assert m["per_label"]["A"]["f1"] == 0.5 and m["per_label"]["B"]["f1"] == 1.0
    assert m["macro_f1"] == 0.75
    assert m["micro_f1"] == pytest.approx(2 * (2 / 4) * (2 / 3) / (2 / 4 + 2 / 3), abs=1e-4)


def test_attitude_confusion_and_macro():
    m = attitude_metrics(["negative", "negative", "neutral", "positive"], ["negative", "neutral", "neutral", "neutral"],
                         SCHEMA.attitudes)
    assert m["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert m["accuracy"] == 0.5
    assert m["macro_f1"] == pytest.approx(np.mean([2 / 3, 0.5, 0.0]), abs=1e-4)


def test_spans_end_to_end_and_masking_per_language():
    examples = [
        Example("1", "en", "Regime forces shelled Idlib.", ["A"], [Span(0, 13, "negative")]),
        Example("2", "fr", "L'armée a frappé.", ["B"], None),  # actors not annotated: not counted for spans
        Example("3", "fr", "Rien.", None, []),  # events not annotated: not counted for events
    ]
    predictions = [
        Prediction(np.zeros(3), ["A"], [(0, 13, "neutral")], ["negative"]),
        Prediction(np.zeros(3), ["B"], [(2, 7, "neutral")], []),
        Prediction(np.zeros(3), ["C"], [], []),
    ]
    m = compute_metrics(examples, predictions, SCHEMA)
    assert m["events"]["rows"] == 2 and m["events"]["micro_f1"] == 1.0
    assert m["actors"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "rows": 2}
    assert m["end_to_end"]["f1"] == 0.0  # span right, attitude wrong
    assert m["attitude_gold_spans"]["accuracy"] == 1.0
    assert m["per_language"]["fr"]["sentences"] == 2 and m["per_language"]["fr"]["event_micro_f1"] == 1.0


def test_thresholds_tuned_per_label():
    examples = [Example(str(i), "en", "t", ["A"] if i < 5 else [], []) for i in range(10)]
    probs = [np.array([0.3 if i < 5 else 0.1, 0.5, 0.5]) for i in range(10)]
    thresholds = tune_thresholds(examples, probs, SCHEMA)
    assert 0.1 < thresholds[0] <= 0.3  # separates 0.3 (positive) from 0.1 (negative)
    assert list(thresholds[1:]) == [0.5, 0.5]  # no positives for B, C: default kept


def test_agreement_scores():
    from eventlens.training.agreement import agreement, cohen_kappa

    assert cohen_kappa(["a", "b", "a", "b"], ["a", "b", "a", "b"]) == 1.0
    assert cohen_kappa(["a", "a", "b", "b"], ["a", "b", "a", "b"]) == 0.0
    first = [Example("1", "en", "Regime forces shelled Idlib.", ["A"], [Span(0, 13, "negative")]),
             Example("2", "en", "Talks resumed in Doha.", ["B"], [])]
    second = [Example("1", "en", "Regime forces shelled Idlib.", ["A", "C"], [Span(0, 13, "neutral"), Span(22, 27, "neutral")]),
              Example("2", "en", "Talks resumed in Doha.", ["B"], [])]
    result = agreement(first, second, SCHEMA)
    assert result["sentences"] == 2 and result["event_exact_match"] == 0.5
    assert result["event_micro_f1"] == pytest.approx(0.8)  # tp 2, fp 1, fn 0
    assert result["span_f1"] == pytest.approx(2 / 3, abs=1e-4) and result["matched_spans"] == 1


def test_evaluate_metric_interface_matches_compute_metrics():
    from eventlens.training.metrics import evaluate_predictions

    examples = [Example("1", "en", "Regime forces shelled Idlib.", ["A"], [Span(0, 13, "negative")]),
                Example("2", "fr", "Rien.", None, [])]
    predictions = [Prediction(np.array([0.9, 0.1, 0.2]), ["A", "B"], [(0, 13, "negative")], ["neutral"]),
                   Prediction(np.zeros(3), [], [(0, 4, "neutral")], [])]
    assert evaluate_predictions(examples, predictions, SCHEMA) == compute_metrics(examples, predictions, SCHEMA)


def test_review_sample_is_blind_and_per_language():
    from eventlens.training.agreement import review_sample

    examples = [Example(f"{lang}-{i}", lang, f"t{i}", ["A"], []) for lang in ("en", "ar") for i in range(40)]
    sample = review_sample(examples, 0.1)
    assert [r["lang"] for r in sample].count("en") == 4 and len(sample) == 8
    assert all(set(r) == {"id", "lang", "text"} for r in sample)
    assert sample == review_sample(list(reversed(examples)), 0.1)


def test_disagreements_and_apply_resolutions():
    from eventlens.training.agreement import apply_resolutions, disagreements

    first = [Example("1", "en", "Regime forces shelled Idlib.", ["A"], [Span(0, 13, "negative")], {"setting": "Syria"}),
             Example("2", "en", "Talks resumed.", ["B"], [])]
    second = [Example("1", "en", "Regime forces shelled Idlib.", ["A"], [Span(0, 13, "neutral")]),
              Example("2", "en", "Talks resumed.", ["B"], [])]
    (row,) = disagreements(first, second)
    assert row["id"] == "1" and row["first"]["actors"] == [[0, 13, "Regime forces", "negative"]]
    resolved = [Example("1", "en", "Regime forces shelled Idlib.", ["A", "C"], [Span(0, 13, "negative")])]
    updated, changed = apply_resolutions(first, resolved)
    assert changed == 1 and updated[0].events == ["A", "C"] and updated[0].meta == {"setting": "Syria"}
    assert updated[1] is first[1]
    with pytest.raises(ValueError, match="not in the corpus"):
        apply_resolutions(first, [Example("9", "en", "x", [], [])])
