"""Fixed train/dev/test splits, stratified by language and by each sentence's rarest event label."""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict

from eventlens.training.data import Example

SPLITS = ("train", "dev", "test")


def _stratum(example: Example, frequency: Counter) -> str:
    if example.events is None:
        return "unannotated"
    if not example.events:
        return "none"
    return min(example.events, key=lambda label: (frequency[label], label))


def stratified_split(examples: list[Example], ratios: tuple[float, float, float] = (0.75, 0.10, 0.15)) -> dict[str, list[Example]]:
    """Assign every example to one split, deterministically from its id.

    Per language, examples are ordered by stratum (rarest event label) and then by a hash of their id,
    and dealt in that order to the split furthest below its target share: each language matches the
    ratios exactly and each stratum within it up to rounding (the deal carries across strata).
    """
    if abs(sum(ratios) - 1.0) > 1e-6 or min(ratios) < 0:
        raise ValueError(f"split ratios must be non-negative and sum to 1, got {ratios}")
    frequency = Counter(label for e in examples for label in e.events or [])
    strata: dict[tuple[str, str], list[Example]] = defaultdict(list)
    for example in examples:
        strata[(example.lang, _stratum(example, frequency))].append(example)
    result: dict[str, list[Example]] = {name: [] for name in SPLITS}
    dealt: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for lang, stratum in sorted(strata):
        counts = dealt[lang]
        for example in sorted(strata[(lang, stratum)], key=lambda e: hashlib.sha1(e.id.encode()).hexdigest()):
            k = sum(counts) + 1
            chosen = max(range(3), key=lambda i: (ratios[i] * k - counts[i], -i))
            counts[chosen] += 1
            result[SPLITS[chosen]].append(example)
    for rows in result.values():
        rows.sort(key=lambda e: e.id)
    return result
