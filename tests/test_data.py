"""The JSONL format and its validator: every bad-input case reports file:line: field: reason."""

import json

import pytest

from eventlens.training.cli import main
from eventlens.training.config import load_label_schema
from eventlens.training.data import DataError, load_examples, locate_mentions, validate_files, write_jsonl

from conftest import LABELS

SCHEMA = load_label_schema(LABELS)
GOOD = {"id": "a", "lang": "en", "text": "Russian jets bombed Ariha.", "events": ["ASSAULT"],
        "actors": [{"start": 0, "end": 12, "attitude": "negative"}]}


def problems_for(tmp_path, *lines):
    path = tmp_path / "data.jsonl"
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l, ensure_ascii=False) for l in lines) + "\n")
    return [str(p) for p in validate_files([path], SCHEMA)[1]], path


@pytest.mark.parametrize(
    "row, field, reason",
    [
        ({**GOOD, "events": ["BOMBING"]}, "events[0]", "unknown event label 'BOMBING'"),
        ({**GOOD, "actors": [{"start": 0, "end": 12, "attitude": "hostile"}]}, "actors[0].attitude", "unknown attitude 'hostile'"),
        ({**GOOD, "actors": [{"start": 20, "end": 40, "attitude": "neutral"}]}, "actors[0]", "out of range"),
        ({**GOOD, "actors": [{"start": 0, "end": 12, "text": "Russian jet", "attitude": "neutral"}]}, "actors[0].text", "span text mismatch"),
        ({**GOOD, "actors": [{"start": 0, "end": 12, "attitude": "neutral"}, {"start": 8, "end": 19, "attitude": "neutral"}]},
         "actors", "overlapping spans"),
        ({**GOOD, "text": "   "}, "text", "empty text"),
        ({**GOOD, "text": None}, "text", "missing"),
        ({**GOOD, "event": ["ASSAULT"]}, "event", "unknown field"),
        ({**GOOD, "events": "ASSAULT"}, "events", "expected a list"),
    ],
)
def test_each_bad_row_is_reported_with_file_line_field(tmp_path, row, field, reason):
    problems, path = problems_for(tmp_path, GOOD | {"id": "ok"}, row)
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"{path}:2: {field}: ")
    assert reason in problems[0]


def test_bad_json_and_duplicate_ids(tmp_path):
    problems, path = problems_for(tmp_path, GOOD, '{"id": "b", "text": ', GOOD)
    assert problems[0].startswith(f"{path}:2: record: bad JSON")
    assert problems[1] == f"{path}:3: id: duplicate id 'a' (first at {path}:1)"


def test_missing_and_empty_heads_are_distinct(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(json.dumps({"id": "x", "text": "Talks may resume."}) + "\n"
                    + json.dumps({"id": "y", "text": "Talks may resume soon.", "events": [], "actors": []}) + "\n")
    x, y = load_examples([path], SCHEMA)
    assert (x.events, x.actors) == (None, None)
    assert (y.events, y.actors) == ([], [])


def test_load_examples_raises_with_every_problem(tmp_path):
    _, path = problems_for(tmp_path, {**GOOD, "events": ["X"]}, {**GOOD, "id": "b", "text": ""})
    with pytest.raises(DataError) as err:
        load_examples([path], SCHEMA)
    assert len(err.value.problems) == 2 and "2 data problem(s)" in str(err.value)


def test_write_then_read_round_trip(tmp_path):
    examples = load_examples([problems_for(tmp_path, GOOD)[1]], SCHEMA)
    write_jsonl(examples, tmp_path / "out.jsonl")
    assert load_examples([tmp_path / "out.jsonl"], SCHEMA) == examples


def test_validate_data_cli_exit_codes(tmp_path, capsys):
    _, bad = problems_for(tmp_path, {**GOOD, "events": ["X"]})
    assert main(["validate-data", str(bad)]) == 1
    assert f"{bad}:1: events[0]: unknown event label 'X'" in capsys.readouterr().out
    good = tmp_path / "good.jsonl"
    good.write_text(json.dumps(GOOD) + "\n")
    assert main(["validate-data", str(good)]) == 0


def test_locate_mentions_prefers_whole_words_and_successive_occurrences():
    text = "Russian troops met Russia's envoy; Russia said troops left."
    assert locate_mentions(text, ["Russia's", "Russia", "troops"]) == [(19, 27), (35, 41), (47, 53)]
    assert locate_mentions("no match here", ["Kyiv"]) == [None]
