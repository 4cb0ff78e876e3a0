"""The bundled corpus: valid, consistent splits, no near-duplicates, well-formed metadata."""

from pathlib import Path

import pytest

from eventlens.training.config import load_label_schema
from eventlens.training.corpus_stats import HARD_CASE_TAGS, near_duplicates
from eventlens.training.data import validate_files
from eventlens.training.splits import stratified_split

from conftest import LABELS, REPO

SCHEMA = load_label_schema(LABELS)
CORPUS = sorted((REPO / "data" / "corpus").glob("*.jsonl"))
SPLITS = {name: REPO / "data" / f"{name}.jsonl" for name in ("train", "dev", "test")}
REGIONS = {"africa", "asia", "europe", "middle-east", "americas", "oceania", "global"}


@pytest.fixture(scope="module")
def corpus():
    examples, problems = validate_files(CORPUS, SCHEMA)
    return examples, problems


def test_every_data_file_validates(corpus):
    assert CORPUS, "no corpus files under data/corpus"
    _, problems = corpus
    assert problems == []
    second_pass = sorted((REPO / "data" / "second_pass").glob("*.jsonl"))
    _, other_problems = validate_files(list(SPLITS.values()), SCHEMA)
    assert other_problems == []
    _, second_problems = validate_files(second_pass, SCHEMA)
    assert second_pass and second_problems == []


def test_corpus_meets_every_requirement(corpus):
    from eventlens.training.corpus_stats import check_thresholds, corpus_stats

    examples, _ = corpus
    unmet = [c for c in check_thresholds(corpus_stats({"all": examples}, SCHEMA), SCHEMA) if not c.met]
    assert unmet == []


def test_second_pass_covers_ten_percent_per_language(corpus):
    from collections import Counter

    examples, _ = corpus
    second, _ = validate_files(sorted((REPO / "data" / "second_pass").glob("*.jsonl")), SCHEMA)
    per_lang, sampled = Counter(e.lang for e in examples), Counter(e.lang for e in second)
    assert all(sampled[lang] >= 0.1 * n - 0.5 for lang, n in per_lang.items())


def test_splits_are_the_deterministic_split_of_the_corpus(corpus):
    examples, _ = corpus
    expected = stratified_split(examples)
    for name, path in SPLITS.items():
        ids = [line.split('"id": "', 1)[1].split('"', 1)[0] for line in path.read_text(encoding="utf-8").splitlines()]
        assert ids == [e.id for e in expected[name]], f"{path} is stale: rerun eventlens split-data data/corpus/*.jsonl -o data"


def test_no_near_duplicates(corpus):
    examples, _ = corpus
    assert near_duplicates(examples) == []
    texts = [e.text for e in examples]
    assert len(texts) == len(set(texts))


def test_ids_languages_and_metadata(corpus):
    examples, _ = corpus
    for example in examples:
        assert example.id.startswith(f"{example.lang}-"), example.id
        assert Path(f"{example.lang}.jsonl").name in {p.name for p in CORPUS}
        assert example.events is not None and example.actors is not None  # the bundled corpus is fully annotated
        assert set(example.meta.get("hard", [])) <= set(HARD_CASE_TAGS), example.id
        assert example.meta.get("setting") and example.meta.get("region") in REGIONS, example.id
        assert 5 <= len(example.text.split()) <= 60 or example.lang in {"zh", "ja"}, example.id
