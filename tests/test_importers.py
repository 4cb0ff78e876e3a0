"""Importers: Label Studio, doccano, CSV and mention strings round-trip into the EventLens format."""

import csv
import json

from eventlens.training.config import load_label_schema
from eventlens.training.importers import import_csv, import_doccano, import_label_studio, import_mentions

from conftest import LABELS

SCHEMA = load_label_schema(LABELS)
TEXT = "Regime forces shelled Idlib while Turkish troops watched."


def test_label_studio_round_trip_and_problem_rows(tmp_path):
    tasks = [
        {"id": 7, "data": {"text": TEXT, "lang": "en"}, "annotations": [{"result": [
            {"type": "labels", "from_name": "actor", "value": {"start": 0, "end": 13, "text": "Regime forces", "labels": ["negative"]}},
            {"type": "labels", "from_name": "actor", "value": {"start": 34, "end": 48, "labels": ["neutral"]}},
            {"type": "choices", "from_name": "events", "value": {"choices": ["ASSAULT"]}},
        ]}]},
        {"id": 8, "data": {"text": "Talks resumed."}, "annotations": [{"result": []}]},
        {"id": 9, "data": {"text": "x"}, "annotations": [{"was_cancelled": True, "result": []}]},
        {"id": 10, "data": {"text": TEXT}, "annotations": [{"result": [
            {"type": "choices", "value": {"choices": ["SHELLING"]}}]}]},
    ]
    path = tmp_path / "ls.json"
    path.write_text(json.dumps(tasks))
    examples, problems = import_label_studio(path, SCHEMA)
    first, second = examples
    assert (first.id, first.lang, first.events) == ("7", "en", ["ASSAULT"])
    assert [(s.start, s.end, s.attitude) for s in first.actors] == [(0, 13, "negative"), (34, 48, "neutral")]
    assert (second.events, second.actors) == (None, None)  # nothing annotated: masked, not "no label"
    assert [str(p) for p in problems] == [
        f"{path}:3: annotations: task has no submitted annotation",
        f"{path}:4: events[0]: unknown event label 'SHELLING' (known: {', '.join(SCHEMA.events)})",
    ]
    complete, _ = import_label_studio(path, SCHEMA, complete=True)
    assert (complete[1].events, complete[1].actors) == ([], [])


def test_doccano_both_export_styles(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text(
        json.dumps({"id": 1, "text": TEXT, "label": [[0, 13, "negative"], "ASSAULT"]}) + "\n"
        + json.dumps({"id": 2, "text": TEXT, "entities": [{"start_offset": 34, "end_offset": 48, "label": "positive"}],
                      "cats": ["MOBILIZE"]}) + "\n"
        + "{not json\n"
    )
    (a, b), problems = import_doccano(path, SCHEMA, lang="en")
    assert (a.events, [(s.start, s.end, s.attitude) for s in a.actors]) == (["ASSAULT"], [(0, 13, "negative")])
    assert (b.events, [(s.start, s.end, s.attitude) for s in b.actors]) == (["MOBILIZE"], [(34, 48, "positive")])
    assert a.lang == "en" and len(problems) == 1 and str(problems[0]).startswith(f"{path}:3: record: bad JSON")


def test_csv_events_only_rows_mask_actors(tmp_path):
    path = tmp_path / "e.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text", "events", "lang"])
        writer.writerow(["r1", TEXT, "ASSAULT|MOBILIZE", "en"])
        writer.writerow(["r2", "Markets were calm.", "", "en"])
        writer.writerow(["r3", "", "ASSAULT", "en"])
    examples, problems = import_csv(path, SCHEMA)
    assert [(e.id, e.events, e.actors) for e in examples] == [("r1", ["ASSAULT", "MOBILIZE"], None), ("r2", [], None)]
    assert [str(p) for p in problems] == [f"{path}:4: text: empty text"]


def test_mentions_become_offsets(tmp_path):
    path = tmp_path / "m.jsonl"
    path.write_text(json.dumps({"id": "m1", "lang": "tr", "text": "Türkiye'nin müdahalesi rejim güçlerinin ilerlemesini durdurdu.",
                                "events": [], "actors": [{"text": "Türkiye'nin", "attitude": "positive"},
                                                         {"text": "rejim güçlerinin", "attitude": "negative"}]}) + "\n"
                    + json.dumps({"id": "m2", "text": "Kyiv said so.", "events": [], "actors": [{"text": "Moscow", "attitude": "neutral"}]}) + "\n")
    (example,), problems = import_mentions(path, SCHEMA)
    assert [example.text[s.start:s.end] for s in example.actors] == ["Türkiye'nin", "rejim güçlerinin"]
    assert [str(p) for p in problems] == [f"{path}:2: actors[0].text: mention 'Moscow' not found in text"]
