"""Evaluation metrics, defined once and used by training, ``eventlens evaluate`` and the benchmarks.

- events: micro/macro F1 and per label, over rows whose events were annotated (macro averages the
  labels present in the gold data);
- actors: span precision/recall/F1, exact character match;
- attitude on gold spans: macro-F1 (labels present in gold), accuracy and a confusion matrix;
- end to end: a predicted actor counts only if both span and attitude are right;
each overall and per language; ``score`` (model selection) is the mean of event micro-F1, actor F1
and attitude macro-F1.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass

import datasets
import evaluate
import numpy as np

from eventlens.inference.decode import TokenView, decode
from eventlens.inference.labels import LabelSchema
from eventlens.training.data import Example, Span


@dataclass
class Prediction:
    """What a model said about one example, in the terms the metrics need."""

    event_probs: np.ndarray
    events: list[str]
    spans: list[tuple[int, int, str]]
    gold_span_attitudes: list[str]


def predictions_from_views(
    examples: list[Example], views: list[TokenView], schema: LabelSchema, thresholds: np.ndarray
) -> list[Prediction]:
    """Decode model outputs twice per example: with predicted spans, and on the gold spans."""
    predictions = []
    for example, view in zip(examples, views):
        result = decode(example.text, view, schema, thresholds)
        gold = [(s.start, s.end) for s in example.actors or []]
        on_gold = decode(example.text, view, schema, thresholds, spans=gold) if gold else None
        predictions.append(
            Prediction(
                event_probs=view.event_probs,
                events=[e.label for e in result.events],
                spans=[(a.start, a.end, a.attitude) for a in result.actors],
                gold_span_attitudes=[a.attitude for a in on_gold.actors] if on_gold else [],
            )
        )
    return predictions


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4)}


def event_metrics(gold: list[list[str]], predicted: list[list[str]], labels: tuple[str, ...]) -> dict:
    """Micro/macro F1 and per-label scores for multi-label events."""
    per_label = {}
    totals = np.zeros(3, dtype=int)
    for label in labels:
        tp = sum(label in g and label in p for g, p in zip(gold, predicted))
        fp = sum(label not in g and label in p for g, p in zip(gold, predicted))
        fn = sum(label in g and label not in p for g, p in zip(gold, predicted))
        totals += (tp, fp, fn)
        per_label[label] = {**prf(tp, fp, fn), "support": tp + fn}
    supported = [m["f1"] for m in per_label.values() if m["support"] > 0]
    micro = prf(*totals)
    return {
        "micro_f1": micro["f1"],
        "micro_precision": micro["precision"],
        "micro_recall": micro["recall"],
        "macro_f1": round(float(np.mean(supported)), 4) if supported else 0.0,
        "rows": len(gold),
        "per_label": per_label,
    }


def attitude_metrics(gold: list[str], predicted: list[str], labels: tuple[str, ...]) -> dict:
    """Macro-F1 (over labels present in gold), accuracy and confusion matrix (rows gold, columns predicted)."""
    index = {label: i for i, label in enumerate(labels)}
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for g, p in zip(gold, predicted):
        confusion[index[g], index[p]] += 1
    per_label = {}
    for i, label in enumerate(labels):
        tp = int(confusion[i, i])
        per_label[label] = {**prf(tp, int(confusion[:, i].sum()) - tp, int(confusion[i].sum()) - tp), "support": int(confusion[i].sum())}
    supported = [m["f1"] for m in per_label.values() if m["support"] > 0]
    return {
        "macro_f1": round(float(np.mean(supported)), 4) if supported else 0.0,
        "accuracy": round(float(np.trace(confusion) / confusion.sum()), 4) if confusion.sum() else 0.0,
        "spans": int(confusion.sum()),
        "per_label": per_label,
        "confusion": confusion.tolist(),
    }


def _span_counts(gold: list[set], predicted: list[set]) -> tuple[int, int, int]:
    tp = sum(len(g & p) for g, p in zip(gold, predicted))
    return tp, sum(len(p) for p in predicted) - tp, sum(len(g) for g in gold) - tp


def compute_metrics(examples: list[Example], predictions: list[Prediction], schema: LabelSchema) -> dict:
    """All metrics overall and per language (see the module docstring)."""
    metrics = _metrics_for(examples, predictions, schema)
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, example in enumerate(examples):
        by_lang[example.lang].append(i)
    metrics["per_language"] = {
        lang: summary(_metrics_for([examples[i] for i in idx], [predictions[i] for i in idx], schema))
        for lang, idx in sorted(by_lang.items())
    }
    return metrics


def _metrics_for(examples: list[Example], predictions: list[Prediction], schema: LabelSchema) -> dict:
    with_events = [(e, p) for e, p in zip(examples, predictions) if e.events is not None]
    with_actors = [(e, p) for e, p in zip(examples, predictions) if e.actors is not None]
    gold_spans = [{(s.start, s.end) for s in e.actors} for e, _ in with_actors]
    pred_spans = [{(s, t) for s, t, _ in p.spans} for _, p in with_actors]
    gold_triples = [{(s.start, s.end, s.attitude) for s in e.actors} for e, _ in with_actors]
    pred_triples = [set(p.spans) for _, p in with_actors]
    gold_att = [s.attitude for e, _ in with_actors for s in e.actors]
    pred_att = [a for _, p in with_actors for a in p.gold_span_attitudes]
    result = {
        "sentences": len(examples),
        "events": event_metrics([e.events for e, _ in with_events], [p.events for _, p in with_events], schema.events),
        "actors": {**prf(*_span_counts(gold_spans, pred_spans)), "rows": len(with_actors)},
        "attitude_gold_spans": attitude_metrics(gold_att, pred_att, schema.attitudes),
        "end_to_end": prf(*_span_counts(gold_triples, pred_triples)),
    }
    result["score"] = round(
        float(np.mean([result["events"]["micro_f1"], result["actors"]["f1"], result["attitude_gold_spans"]["macro_f1"]])), 4
    )
    return result


def summary(metrics: dict) -> dict[str, float]:
    """The headline numbers of a metrics dict, flat."""
    return {
        "sentences": metrics["sentences"],
        "event_micro_f1": metrics["events"]["micro_f1"],
        "event_macro_f1": metrics["events"]["macro_f1"],
        "actor_f1": metrics["actors"]["f1"],
        "attitude_macro_f1": metrics["attitude_gold_spans"]["macro_f1"],
        "end_to_end_f1": metrics["end_to_end"]["f1"],
        "score": metrics["score"],
    }


def tune_thresholds(examples: list[Example], event_probs: list[np.ndarray], schema: LabelSchema) -> np.ndarray:
    """Per-label thresholds maximising that label's F1 on the given (dev) rows.

    Grid 0.05..0.95; ties go to the threshold nearest 0.5; labels absent from the data keep 0.5.
    """
    rows = [(e, p) for e, p in zip(examples, event_probs) if e.events is not None]
    thresholds = np.full(len(schema.events), 0.5)
    if not rows:
        return thresholds
    probs = np.stack([p for _, p in rows])
    grid = np.round(np.arange(0.05, 0.96, 0.05), 2)
    for j, label in enumerate(schema.events):
        gold = np.array([label in e.events for e, _ in rows])
        if not gold.any():
            continue
        best = max(
            grid,
            key=lambda t: (prf(int((probs[:, j] >= t)[gold].sum()), int((probs[:, j] >= t)[~gold].sum()), int((probs[:, j] < t)[gold].sum()))["f1"], -abs(t - 0.5)),
        )
        thresholds[j] = float(best)
    return thresholds


class EventLensMetric(evaluate.Metric):
    """The metrics above behind the Hugging Face ``evaluate`` interface (``add_batch`` / ``compute``).

    ``evaluate.load`` fetches metric scripts from the hub, so the module is instantiated directly and kept
    in memory. Predictions and references travel as JSON strings (nested spans don't fit flat features).
    """

    def __init__(self, schema: LabelSchema, **kwargs):
        self.schema = schema
        super().__init__(keep_in_memory=True, **kwargs)

    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description="EventLens events / actor spans / attitude / end-to-end metrics, overall and per language.",
            citation="",
            inputs_description="predictions: JSON Prediction records; references: JSON Example records",
            features=datasets.Features({"predictions": datasets.Value("string"), "references": datasets.Value("string")}),
        )

    def _compute(self, predictions: list[str], references: list[str]) -> dict:
        examples = [_example_from_json(r) for r in references]
        return compute_metrics(examples, [_prediction_from_json(p) for p in predictions], self.schema)


def prediction_to_json(prediction: Prediction) -> str:
    return json.dumps({"event_probs": prediction.event_probs.tolist(), "events": prediction.events,
                       "spans": prediction.spans, "gold_span_attitudes": prediction.gold_span_attitudes})


def _prediction_from_json(text: str) -> Prediction:
    d = json.loads(text)
    return Prediction(np.array(d["event_probs"]), d["events"], [tuple(s) for s in d["spans"]], d["gold_span_attitudes"])


def _example_from_json(text: str) -> Example:
    d = json.loads(text)
    actors = None if d["actors"] is None else [Span(a["start"], a["end"], a["attitude"]) for a in d["actors"]]
    return Example(d["id"], d["lang"], d["text"], d["events"], actors)


def evaluate_predictions(examples: list[Example], predictions: list[Prediction], schema: LabelSchema) -> dict:
    """All metrics through :class:`EventLensMetric` (identical to :func:`compute_metrics`)."""
    metric = EventLensMetric(schema)
    metric.add_batch(predictions=[prediction_to_json(p) for p in predictions],
                     references=[json.dumps(e.to_dict(), ensure_ascii=False) for e in examples])
    return metric.compute()
