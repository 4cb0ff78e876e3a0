"""Inter-annotator agreement between two annotation passes over the same sentences (matched by id).

- events: micro-F1 of pass B against pass A (symmetric for F1), and per label;
- actor spans: F1 of exact character matches;
- attitude: Cohen's kappa on the spans both passes marked identically;
each overall and per language.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

from eventlens.inference.labels import LabelSchema
from eventlens.training.data import Example
from eventlens.training.metrics import event_metrics, prf


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Cohen's kappa of two label sequences (1.0 for perfect agreement, 0 at chance level)."""
    n = len(a)
    if n == 0:
        return 0.0
    observed = sum(x == y for x, y in zip(a, b)) / n
    count_a, count_b = Counter(a), Counter(b)
    expected = sum(count_a[k] * count_b[k] for k in set(a) | set(b)) / (n * n)
    return round((observed - expected) / (1 - expected), 4) if expected < 1 else 1.0


def _agreement(pairs: list[tuple[Example, Example]], schema: LabelSchema) -> dict:
    events = event_metrics([a.events for a, _ in pairs], [b.events for _, b in pairs], schema.events)
    tp = fp = fn = 0
    att_a, att_b = [], []
    for a, b in pairs:
        spans_a = {(s.start, s.end): s.attitude for s in a.actors}
        spans_b = {(s.start, s.end): s.attitude for s in b.actors}
        shared = spans_a.keys() & spans_b.keys()
        tp += len(shared)
        fp += len(spans_b.keys() - shared)
        fn += len(spans_a.keys() - shared)
        for key in sorted(shared):
            att_a.append(spans_a[key])
            att_b.append(spans_b[key])
    return {
        "sentences": len(pairs),
        "event_micro_f1": events["micro_f1"],
        "event_macro_f1": events["macro_f1"],
        "event_exact_match": round(sum(set(a.events) == set(b.events) for a, b in pairs) / max(len(pairs), 1), 4),
        "span_f1": prf(tp, fp, fn)["f1"],
        "matched_spans": tp,
        "attitude_kappa": cohen_kappa(att_a, att_b),
        "attitude_agreement": round(sum(x == y for x, y in zip(att_a, att_b)) / max(len(att_a), 1), 4),
        "per_event_label_f1": {label: m["f1"] for label, m in events["per_label"].items() if m["support"]},
    }


def agreement(first: list[Example], second: list[Example], schema: LabelSchema) -> dict:
    """Agreement of two passes on the sentences both annotated fully (ids present in both)."""
    by_id = {e.id: e for e in first}
    pairs = [(by_id[e.id], e) for e in second if e.id in by_id]
    pairs = [(a, b) for a, b in pairs if None not in (a.events, a.actors, b.events, b.actors)]
    if not pairs:
        raise ValueError("no sentence id is fully annotated in both passes")
    mismatched = [b.id for a, b in pairs if a.text != b.text]
    if mismatched:
        raise ValueError(f"the two passes have different texts for ids {mismatched[:5]}")
    by_lang: dict[str, list] = defaultdict(list)
    for a, b in pairs:
        by_lang[a.lang].append((a, b))
    result = _agreement(pairs, schema)
    result["per_language"] = {lang: {k: v for k, v in _agreement(p, schema).items() if k != "per_event_label_f1"}
                              for lang, p in sorted(by_lang.items())}
    return result


def review_sample(examples: list[Example], fraction: float) -> list[dict]:
    """A blind sample for a second annotation pass: per language, the ``fraction`` of sentences with the
    lowest id hashes (deterministic), reduced to ``id``/``lang``/``text`` so the annotator sees no labels."""
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    by_lang: dict[str, list[Example]] = defaultdict(list)
    for example in examples:
        by_lang[example.lang].append(example)
    sample = []
    for lang, rows in sorted(by_lang.items()):
        rows = sorted(rows, key=lambda e: hashlib.sha1(e.id.encode()).hexdigest())
        sample.extend({"id": e.id, "lang": e.lang, "text": e.text} for e in rows[: max(1, round(fraction * len(rows)))])
    return sample


def disagreements(first: list[Example], second: list[Example]) -> list[dict]:
    """Sentences where the passes differ in events, spans or attitudes, both annotations side by side
    (spans as ``[start, end, text, attitude]``), for adjudication."""
    by_id = {e.id: e for e in first}
    rows = []
    for b in second:
        a = by_id.get(b.id)
        if a is None:
            continue
        spans_a = [[s.start, s.end, a.text[s.start:s.end], s.attitude] for s in a.actors or []]
        spans_b = [[s.start, s.end, b.text[s.start:s.end], s.attitude] for s in b.actors or []]
        if sorted(a.events or []) != sorted(b.events or []) or spans_a != spans_b:
            rows.append({"id": a.id, "lang": a.lang, "text": a.text,
                         "first": {"events": a.events, "actors": spans_a}, "second": {"events": b.events, "actors": spans_b}})
    return rows


def apply_resolutions(examples: list[Example], resolved: list[Example]) -> tuple[list[Example], int]:
    """Replace the events and actors of examples by adjudicated ones (matched by id; text must agree).

    Metadata and order are kept. Returns the updated examples and how many changed.
    """
    by_id = {r.id: r for r in resolved}
    updated, changed = [], 0
    for example in examples:
        fix = by_id.pop(example.id, None)
        if fix is None:
            updated.append(example)
            continue
        if fix.text != example.text:
            raise ValueError(f"{example.id}: the adjudicated text differs from the corpus text")
        if (fix.events, fix.actors) != (example.events, example.actors):
            changed += 1
        updated.append(Example(example.id, example.lang, example.text, fix.events, fix.actors, example.meta))
    if by_id:
        raise ValueError(f"adjudicated ids not in the corpus: {sorted(by_id)[:5]}")
    return updated, changed
