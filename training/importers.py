"""Importers from annotation tools into the EventLens JSONL format.

Every importer returns ``(examples, problems)``: each input row becomes an example or at least one
:class:`~eventlens.training.data.Problem` naming the file, the row and the field — never silently dropped.

Missing annotation layers stay ``None`` (not annotated, masked in the loss) unless ``complete=True``
says the annotators always saw both layers, in which case a row with no spans has ``actors == []``
and a row with no event choice has ``events == []``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Callable

from eventlens.inference.labels import LabelSchema
from eventlens.training.data import Example, Problem, locate_mentions, parse_record

#: CSV ``events`` cells may separate labels with any of these.
CSV_LABEL_SEPARATORS = ("|", ";", ",")


def _finish(record: dict, schema: LabelSchema, file: str, line: int, out: list, problems: list) -> None:
    example, row_problems = parse_record(record, schema, file, line)
    problems.extend(row_problems)
    if example is not None:
        out.append(example)


def import_label_studio(path: str | Path, schema: LabelSchema, lang: str = "und", complete: bool = False):
    """Import a Label Studio JSON export (a list of tasks).

    Span results (``labels``) become actors, their label the attitude; choice results become events.
    The first non-cancelled annotation of each task is used. Row numbers are task positions (1-based).
    """
    path = Path(path)
    examples: list[Example] = []
    problems: list[Problem] = []
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        return [], [Problem(str(path), 0, "file", f"not a Label Studio JSON export: {err}")]
    if not isinstance(tasks, list):
        return [], [Problem(str(path), 0, "file", "expected a JSON list of tasks")]
    for row, task in enumerate(tasks, start=1):
        if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
            problems.append(Problem(str(path), row, "data", "task has no 'data' object"))
            continue
        data = task["data"]
        annotations = [a for a in task.get("annotations", []) if isinstance(a, dict) and not a.get("was_cancelled")]
        if not annotations:
            problems.append(Problem(str(path), row, "annotations", "task has no submitted annotation"))
            continue
        events, actors = None, None
        for result in annotations[0].get("result", []):
            value = result.get("value", {}) if isinstance(result, dict) else {}
            if result.get("type") == "choices":
                events = (events or []) + list(value.get("choices", []))
            elif result.get("type") == "labels":
                for label in value.get("labels", []):
                    span = {"start": value.get("start"), "end": value.get("end"), "attitude": label}
                    if "text" in value:
                        span["text"] = value["text"]
                    actors = (actors or []) + [span]
        if complete:
            events, actors = events or [], actors or []
        record = {"id": str(task.get("id", row)), "lang": data.get("lang", lang), "text": data.get("text"),
                  "events": events, "actors": actors}
        _finish(record, schema, str(path), row, examples, problems)
    return examples, problems


def import_doccano(path: str | Path, schema: LabelSchema, lang: str = "und", complete: bool = False):
    """Import a doccano JSONL export.

    Spans come from ``entities`` (``start_offset``/``end_offset``/``label``) or ``[start, end, label]``
    triples in ``label``; events from string items of ``label`` or from ``cats``.
    """
    return _read_jsonl_rows(path, lambda raw, line: _doccano_record(raw, line, lang, complete), schema)


def _doccano_record(raw: dict, line: int, lang: str, complete: bool) -> dict:
    events, actors = None, None
    for item in raw.get("label", []) or []:
        if isinstance(item, str):
            events = (events or []) + [item]
        elif isinstance(item, (list, tuple)) and len(item) == 3:
            actors = (actors or []) + [{"start": item[0], "end": item[1], "attitude": item[2]}]
    if raw.get("cats"):
        events = (events or []) + list(raw["cats"])
    for entity in raw.get("entities", []) or []:
        actors = (actors or []) + [
            {"start": entity.get("start_offset"), "end": entity.get("end_offset"), "attitude": entity.get("label")}
        ]
    if complete:
        events, actors = events or [], actors or []
    return {"id": str(raw.get("id", line)), "lang": raw.get("lang", lang), "text": raw.get("text"),
            "events": events, "actors": actors}


def import_mentions(path: str | Path, schema: LabelSchema, lang: str = "und", complete: bool = False):
    """Import JSONL whose actors are given as strings: ``{"text": "...", "attitude": "..."}``.

    Offsets are found in reading order (repeated mentions map to successive occurrences). Other fields
    follow the EventLens format. ``complete`` is accepted for a uniform signature and has no effect.
    """

    def to_record(raw: dict, line: int) -> dict | Problem:
        record = {key: value for key, value in raw.items() if key != "actors"}
        record.setdefault("lang", lang)
        mentions = raw.get("actors")
        if mentions is None or not isinstance(raw.get("text"), str):
            record["actors"] = mentions
            return record
        if not isinstance(mentions, list) or not all(isinstance(m, dict) and isinstance(m.get("text"), str) for m in mentions):
            return Problem(str(path), line, "actors", "expected a list of {text, attitude} objects")
        located = locate_mentions(raw["text"], [m["text"] for m in mentions])
        for i, (mention, where) in enumerate(zip(mentions, located)):
            if where is None:
                return Problem(str(path), line, f"actors[{i}].text", f"mention {mention['text']!r} not found in text")
        record["actors"] = [
            {"start": s, "end": e, "attitude": m.get("attitude"), "text": m["text"]} for m, (s, e) in zip(mentions, located)
        ]
        return record

    return _read_jsonl_rows(path, to_record, schema)


def _read_jsonl_rows(path: str | Path, to_record: Callable[[dict, int], dict | Problem], schema: LabelSchema):
    path = Path(path)
    examples: list[Example] = []
    problems: list[Problem] = []
    with path.open(encoding="utf-8", errors="strict") as handle:
        for line, raw_line in enumerate(handle, start=1):
            if not raw_line.strip():
                continue
            try:
                raw = json.loads(raw_line)
            except json.JSONDecodeError as err:
                problems.append(Problem(str(path), line, "record", f"bad JSON: {err.msg} at column {err.colno}"))
                continue
            if not isinstance(raw, dict):
                problems.append(Problem(str(path), line, "record", "expected a JSON object"))
                continue
            record = to_record(raw, line)
            if isinstance(record, Problem):
                problems.append(record)
            else:
                _finish(record, schema, str(path), line, examples, problems)
    return examples, problems


def import_csv(
    path: str | Path,
    schema: LabelSchema,
    lang: str = "und",
    complete: bool = False,
    text_column: str = "text",
    events_column: str = "events",
):
    """Import a CSV with a text column and an events column (labels separated by ``|``, ``;`` or ``,``).

    An empty events cell means "annotated, no event". Optional ``id`` and ``lang`` columns are used when
    present. CSV rows carry no actor spans, so actors are ``None`` (masked) — or ``[]`` with ``complete``.
    Row numbers count the header as line 1.
    """
    path = Path(path)
    examples: list[Example] = []
    problems: list[Problem] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in (text_column, events_column) if c not in (reader.fieldnames or [])]
        if missing:
            return [], [Problem(str(path), 1, ",".join(missing), f"missing column(s); header is {reader.fieldnames}")]
        for record_row in reader:
            line = reader.line_num
            cell = (record_row.get(events_column) or "").strip()
            separator = next((s for s in CSV_LABEL_SEPARATORS if s in cell), None)
            events = [e.strip() for e in cell.split(separator)] if separator else ([cell] if cell else [])
            record = {
                "id": record_row.get("id") or f"{path.stem}-{line}",
                "lang": record_row.get("lang") or lang,
                "text": record_row.get(text_column),
                "events": [e for e in events if e],
                "actors": [] if complete else None,
            }
            _finish(record, schema, str(path), line, examples, problems)
    return examples, problems


IMPORTERS = {
    "label-studio": import_label_studio,
    "doccano": import_doccano,
    "csv": import_csv,
    "mentions": import_mentions,
}
