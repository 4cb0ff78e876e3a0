"""Corpus statistics and the bundled corpus's quality thresholds (``eventlens data-stats``)."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from eventlens.inference.labels import LabelSchema
from eventlens.training.data import Example

#: Hard-case tags allowed in ``meta.hard`` (ANNOTATION_GUIDELINES.md §1 and §5).
HARD_CASE_TAGS = (
    "denial", "threat", "future_or_hypothetical", "quoted_accusation", "casualty_toll",
    "territory_captured", "equipment_seized", "terror_listing", "ceasefire_agreed",
    "ceasefire_in_force", "aid_delivery", "prevented_attack", "framing_loaded", "framing_neutral",
)
CORE_LANGUAGES = ("en", "ar", "tr", "ru", "uk", "fr", "es", "de")
NEAR_DUPLICATE_JACCARD = 0.8


@dataclass(frozen=True)
class Threshold:
    """One corpus requirement: a name, the measured value and whether it is met."""

    name: str
    value: float
    target: str
    met: bool


def char_trigrams(text: str) -> set[str]:
    """Lower-cased character trigrams with whitespace collapsed."""
    norm = re.sub(r"\s+", " ", text.lower()).strip()
    return {norm[i : i + 3] for i in range(max(len(norm) - 2, 1))}


def near_duplicates(examples: list[Example], threshold: float = NEAR_DUPLICATE_JACCARD) -> list[tuple[str, str, float]]:
    """Pairs of examples (same language) whose character-trigram Jaccard similarity exceeds ``threshold``."""
    by_lang: dict[str, list[tuple[str, set[str]]]] = defaultdict(list)
    for ex in examples:
        by_lang[ex.lang].append((ex.id, char_trigrams(ex.text)))
    pairs = []
    for items in by_lang.values():
        items.sort(key=lambda item: len(item[1]))
        for i, (id_a, a) in enumerate(items):
            for id_b, b in items[i + 1 :]:
                if len(a) < threshold * len(b):
                    break  # sizes only grow from here: Jaccard <= |a|/|b| < threshold
                jaccard = len(a & b) / len(a | b)
                if jaccard > threshold:
                    pairs.append((id_a, id_b, round(jaccard, 3)))
    return pairs


def word_count(text: str) -> int:
    """Words, counting each CJK character as a word-equivalent of 1/1.5 characters."""
    cjk = len(re.findall(r"[\u3040-\u30ff\u3400-\u9fff]", text))
    return len(re.findall(r"\S+", re.sub(r"[\u3040-\u30ff\u3400-\u9fff]", " ", text))) + round(cjk / 1.5)


def corpus_stats(splits: dict[str, list[Example]], schema: LabelSchema) -> dict:
    """Counts per language, label and split, label shape, attitudes, hard cases, breadth, duplicates."""
    examples = [ex for rows in splits.values() for ex in rows]
    n = len(examples)
    event_rows = [ex for ex in examples if ex.events is not None]
    mentions = [s for ex in examples for s in (ex.actors or [])]
    attitude_counts = Counter(s.attitude for s in mentions)
    lengths = [word_count(ex.text) for ex in examples]
    return {
        "sentences": n,
        "per_split": {name: len(rows) for name, rows in splits.items()},
        "per_language": dict(sorted(Counter(ex.lang for ex in examples).items())),
        "per_language_split": {
            name: dict(sorted(Counter(ex.lang for ex in rows).items())) for name, rows in splits.items()
        },
        "per_event_label": {label: sum(label in ex.events for ex in event_rows) for label in schema.events},
        "per_event_label_split": {
            name: {label: sum(label in (ex.events or []) for ex in rows) for label in schema.events}
            for name, rows in splits.items()
        },
        "no_event_share": _share(sum(ex.events == [] for ex in event_rows), len(event_rows)),
        "multi_event_share": _share(sum(len(ex.events) >= 2 for ex in event_rows), len(event_rows)),
        "actor_mentions": len(mentions),
        "attitude_counts": {a: attitude_counts.get(a, 0) for a in schema.attitudes},
        "attitude_share": {a: _share(attitude_counts.get(a, 0), len(mentions)) for a in schema.attitudes},
        "hard_case_share": _share(sum(bool(ex.meta.get("hard")) for ex in examples), n),
        "hard_case_tags": dict(sorted(Counter(t for ex in examples for t in ex.meta.get("hard", [])).items())),
        "settings": len({ex.meta["setting"] for ex in examples if ex.meta.get("setting")}),
        "regions": dict(sorted(Counter(ex.meta.get("region", "unknown") for ex in examples).items())),
        "words_min": min(lengths, default=0),
        "words_max": max(lengths, default=0),
        "words_mean": round(sum(lengths) / max(n, 1), 1),
        "near_duplicates": near_duplicates(examples),
    }


def _share(count: int, total: int) -> float:
    return round(count / total, 4) if total else 0.0


def check_thresholds(stats: dict, schema: LabelSchema) -> list[Threshold]:
    """The bundled corpus's requirements, each with its measured value."""
    per_lang = stats["per_language"]
    others = {lang: c for lang, c in per_lang.items() if lang not in CORE_LANGUAGES}
    checks = [
        Threshold("sentences", stats["sentences"], ">= 5000", stats["sentences"] >= 5000),
        *(Threshold(f"language {lang}", per_lang.get(lang, 0), ">= 550", per_lang.get(lang, 0) >= 550) for lang in CORE_LANGUAGES),
        Threshold("other languages with >= 150", sum(c >= 150 for c in others.values()), ">= 4",
                  sum(c >= 150 for c in others.values()) >= 4),
        *(Threshold(f"event {label}", c, ">= 200", c >= 200) for label, c in stats["per_event_label"].items()),
        Threshold("no-event share", stats["no_event_share"], "0.15-0.25", 0.15 <= stats["no_event_share"] <= 0.25),
        Threshold("2+ event types share", stats["multi_event_share"], ">= 0.20", stats["multi_event_share"] >= 0.20),
        Threshold("negative mentions share", stats["attitude_share"].get("negative", 0), ">= 0.20",
                  stats["attitude_share"].get("negative", 0) >= 0.20),
        Threshold("positive mentions share", stats["attitude_share"].get("positive", 0), ">= 0.12",
                  stats["attitude_share"].get("positive", 0) >= 0.12),
        Threshold("hard-case share", stats["hard_case_share"], ">= 0.15", stats["hard_case_share"] >= 0.15),
        Threshold("distinct settings", stats["settings"], ">= 30", stats["settings"] >= 30),
        Threshold("regions covered", len(set(stats["regions"]) - {"unknown"}), ">= 5 (all continents)",
                  len(set(stats["regions"]) - {"unknown", "global"}) >= 5),
        Threshold("near-duplicate pairs", len(stats["near_duplicates"]), "0", not stats["near_duplicates"]),
    ]
    return checks


def split_name(path: str | Path) -> str:
    """``data/train.jsonl`` → ``train``."""
    return Path(path).stem
