"""Shared fixtures: a tiny random encoder, a small synthetic corpus, one tiny training run and its export.

Everything is written under pytest's tmp directories; nothing touches the repository or ~/.cache.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
LABELS = REPO / "configs" / "labels.yaml"

# Synthetic sentences for the tiny-model tests (not the bundled corpus): an actor, a verb that
# signals the event type, and a place; attitudes follow loaded vs neutral actor wording.
_ACTORS = [("the army", "neutral"), ("regime forces", "negative"), ("rebel fighters", "neutral"),
           ("the brave medics", "positive"), ("the terrorists", "negative"), ("the ministry", "neutral")]
_EVENTS = [("shelled", "ASSAULT"), ("arrested dozens in", "COERCE"), ("delivered food to", "AID"),
           ("held talks in", "CONSULT"), ("protested in", "PROTEST")]
_PLACES = ["Aleppo", "Kharkiv", "Khartoum", "Goma", "Mosul", "Bamako"]


def make_rows(n: int, seed: int, prefix: str) -> list[dict]:
    """Deterministic synthetic rows; every fifth row has no event, every seventh has events only."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        actor, attitude = rng.choice(_ACTORS)
        place = rng.choice(_PLACES)
        if i % 5 == 4:
            text, events = f"Weather in {place} stayed mild, said {actor}.", []
        else:
            verb, event = rng.choice(_EVENTS)
            text, events = f"{actor.capitalize()} {verb} {place} on day {i}.", [event]
        start = text.lower().index(actor)
        row = {"id": f"{prefix}-{i}", "lang": "en" if i % 3 else "xx", "text": text, "events": events,
               "actors": [{"start": start, "end": start + len(actor), "attitude": attitude}]}
        if i % 7 == 6:
            row["actors"] = None
        rows.append(row)
    return rows


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="session")
def tiny_encoder_dir(cache_dir) -> Path:
    from eventlens.training.base_model import materialize_tiny_model

    return materialize_tiny_model(cache_dir)


@pytest.fixture(scope="session")
def toy_data(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("data")
    return {name: write_jsonl(root / f"{name}.jsonl", make_rows(n, seed, name))
            for name, n, seed in (("train", 120, 1), ("dev", 30, 2), ("test", 30, 3))}


def tiny_config(toy_data: dict[str, Path], output_dir: Path, **train_overrides):
    """A RunConfig on the tiny encoder and the toy data."""
    from eventlens.training.config import config_from_dict

    return config_from_dict({
        "data": {"train": [str(toy_data["train"])], "dev": [str(toy_data["dev"])], "test": [str(toy_data["test"])],
                 "labels": str(LABELS)},
        "model": {"base_model": "eventlens/tiny-random-bert", "max_length": 32, "dropout": 0.0,
                  "freeze_word_embeddings": False},
        "train": {"output_dir": str(output_dir), "epochs": 10, "batch_size": 8, "learning_rate": 3e-3,
                  "head_learning_rate": 1e-2, "warmup_ratio": 0.0, "early_stopping_patience": 0,
                  "logging_steps": 5, **train_overrides},
    })


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory, toy_data, tiny_encoder_dir, monkeypatch_session) -> Path:
    from eventlens.training.train import train

    return train(tiny_config(toy_data, tmp_path_factory.mktemp("run") / "run"), progress=False)


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory, tiny_run) -> Path:
    from eventlens.training.export import export_run

    out = tmp_path_factory.mktemp("export") / "model"
    export_run(tiny_run, out)
    return out


@pytest.fixture(scope="session")
def monkeypatch_session(cache_dir):
    """Point the eventlens cache at the session's tmp dir for everything that resolves base models."""
    mp = pytest.MonkeyPatch()
    mp.setenv("EVENTLENS_CACHE", str(cache_dir))
    yield mp
    mp.undo()
