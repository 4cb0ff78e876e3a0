"""The EventLens JSONL data format: parsing, validation and writing.

One UTF-8 JSON object per line::

    {"id": "ex-1", "lang": "en", "text": "Russian jets bombed Ariha.",
     "events": ["ASSAULT"], "actors": [{"start": 0, "end": 12, "attitude": "negative"}]}

``events``/``actors`` set to ``[]`` mean "annotated, none"; missing or ``null`` mean "not annotated",
and the training loss masks that head for the row instead of reading it as a negative.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

from eventlens.inference.labels import LabelSchema

ALLOWED_FIELDS = ("id", "lang", "text", "events", "actors", "meta")
SPAN_FIELDS = ("start", "end", "attitude", "text")


@dataclass(frozen=True)
class Span:
    """A character span ``text[start:end]`` naming an actor, with the attitude toward it."""

    start: int
    end: int
    attitude: str


@dataclass
class Example:
    """One annotated sentence; ``None`` for a head means that part was not annotated."""

    id: str
    lang: str
    text: str
    events: list[str] | None
    actors: list[Span] | None
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSONL record, with each span's text included for readability."""
        record: dict = {"id": self.id, "lang": self.lang, "text": self.text, "events": self.events}
        record["actors"] = (
            None
            if self.actors is None
            else [
                {"start": s.start, "end": s.end, "text": self.text[s.start : s.end], "attitude": s.attitude}
                for s in self.actors
            ]
        )
        if self.meta:
            record["meta"] = self.meta
        return record


@dataclass(frozen=True)
class Problem:
    """One data problem, printed as ``file:line: field: reason``."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


class DataError(ValueError):
    """Raised when input data has problems; carries every :class:`Problem` found."""

    def __init__(self, problems: list[Problem], limit: int = 30):
        self.problems = problems
        shown = "\n".join(str(p) for p in problems[:limit])
        more = f"\n... and {len(problems) - limit} more" if len(problems) > limit else ""
        super().__init__(f"{len(problems)} data problem(s):\n{shown}{more}")


def parse_record(record: object, schema: LabelSchema, file: str, line: int) -> tuple[Example | None, list[Problem]]:
    """Check one decoded JSON record against the format and the label schema.

    Returns the example (``None`` if it is unusable) and every problem found in it.
    """
    problems: list[Problem] = []

    def bad(field_name: str, reason: str) -> None:
        problems.append(Problem(file, line, field_name, reason))

    if not isinstance(record, dict):
        bad("record", f"expected a JSON object, got {type(record).__name__}")
        return None, problems
    for key in sorted(set(record) - set(ALLOWED_FIELDS)):
        bad(key, f"unknown field (allowed: {', '.join(ALLOWED_FIELDS)})")

    text = record.get("text")
    if not isinstance(text, str):
        bad("text", "missing" if text is None else f"expected a string, got {type(text).__name__}")
        text = None
    elif not text.strip():
        bad("text", "empty text")
        text = None

    raw_id = record.get("id", f"{Path(file).stem}-{line}")
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool) or str(raw_id) == "":
        bad("id", "expected a non-empty string or integer")
    lang = record.get("lang", "und")
    if not isinstance(lang, str) or not lang.strip():
        bad("lang", "expected a non-empty language code such as 'en'")

    events = _parse_events(record.get("events"), schema, bad)
    actors = _parse_actors(record.get("actors"), schema, text, bad)
    meta = record.get("meta", {})
    if not isinstance(meta, dict):
        bad("meta", "expected a JSON object")
    if problems:
        return None, problems
    return Example(id=str(raw_id), lang=lang, text=text, events=events, actors=actors, meta=meta), problems


def _parse_events(value, schema: LabelSchema, bad) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        bad("events", f"expected a list of labels or null, got {type(value).__name__}")
        return None
    known = set(schema.events)
    for i, label in enumerate(value):
        if not isinstance(label, str):
            bad(f"events[{i}]", f"expected a label string, got {type(label).__name__}")
        elif label not in known:
            bad(f"events[{i}]", f"unknown event label {label!r} (known: {', '.join(schema.events)})")
    if len(set(map(str, value))) != len(value):
        bad("events", "duplicate labels")
    return list(value)


def _parse_actors(value, schema: LabelSchema, text: str | None, bad) -> list[Span] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        bad("actors", f"expected a list of spans or null, got {type(value).__name__}")
        return None
    spans: list[Span] = []
    for i, item in enumerate(value):
        where = f"actors[{i}]"
        if not isinstance(item, dict):
            bad(where, "expected an object with start, end, attitude")
            continue
        for key in sorted(set(item) - set(SPAN_FIELDS)):
            bad(f"{where}.{key}", f"unknown field (allowed: {', '.join(SPAN_FIELDS)})")
        start, end, attitude = item.get("start"), item.get("end"), item.get("attitude")
        ok = True
        for key, pos in (("start", start), ("end", end)):
            if not isinstance(pos, int) or isinstance(pos, bool):
                bad(f"{where}.{key}", "expected an integer character offset")
                ok = False
        if attitude not in schema.attitudes:
            bad(f"{where}.attitude", f"unknown attitude {attitude!r} (known: {', '.join(schema.attitudes)})")
            ok = False
        if not ok or text is None:
            continue
        if not 0 <= start < end <= len(text):
            bad(where, f"span [{start}, {end}) out of range for text of length {len(text)}")
            continue
        if "text" in item and item["text"] != text[start:end]:
            bad(f"{where}.text", f"span text mismatch: {item['text']!r} != text[{start}:{end}] {text[start:end]!r}")
            continue
        if text[start:end] != text[start:end].strip():
            bad(where, f"span {text[start:end]!r} starts or ends with whitespace")
            continue
        spans.append(Span(start, end, attitude))
    ordered = sorted(spans, key=lambda s: (s.start, s.end))
    for a, b in zip(ordered, ordered[1:]):
        if b.start < a.end:
            bad("actors", f"overlapping spans [{a.start}, {a.end}) and [{b.start}, {b.end})")
    return ordered


def iter_jsonl(path: str | Path, schema: LabelSchema) -> Iterator[tuple[int, Example | None, list[Problem]]]:
    """Yield ``(line_number, example_or_None, problems)`` for each non-blank line of a JSONL file."""
    path = Path(path)
    with path.open("rb") as handle:
        for line_no, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                yield line_no, None, [Problem(str(path), line_no, "record", f"not valid UTF-8 ({err.reason})")]
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                yield line_no, None, [Problem(str(path), line_no, "record", f"bad JSON: {err.msg} at column {err.colno}")]
                continue
            example, problems = parse_record(record, schema, str(path), line_no)
            yield line_no, example, problems


def validate_files(paths: Iterable[str | Path], schema: LabelSchema) -> tuple[list[Example], list[Problem]]:
    """Read and check files, including ids duplicated within or across them.

    Returns the valid examples and every problem found (an empty list means all rows are valid).
    """
    examples: list[Example] = []
    problems: list[Problem] = []
    first_seen: dict[str, str] = {}
    for path in paths:
        if not Path(path).is_file():
            problems.append(Problem(str(path), 0, "file", "no such file"))
            continue
        for line_no, example, row_problems in iter_jsonl(path, schema):
            problems.extend(row_problems)
            if example is None:
                continue
            where = f"{path}:{line_no}"
            if example.id in first_seen:
                problems.append(Problem(str(path), line_no, "id", f"duplicate id {example.id!r} (first at {first_seen[example.id]})"))
                continue
            first_seen[example.id] = where
            examples.append(example)
    return examples, problems


def load_examples(paths: Iterable[str | Path], schema: LabelSchema) -> list[Example]:
    """Load examples from JSONL files, raising :class:`DataError` listing every problem if any row is bad."""
    examples, problems = validate_files(paths, schema)
    if problems:
        raise DataError(problems)
    return examples


def write_jsonl(examples: Iterable[Example], path: str | Path) -> int:
    """Write examples as JSONL (UTF-8, one object per line); returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(json.dumps(example.to_dict(), ensure_ascii=False) + "\n")
            count += 1
    return count


def files_fingerprint(paths: Iterable[str | Path]) -> str:
    """sha256 over the bytes of the given files, in order: identifies the training data of a run."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(Path(path).name.encode())
        digest.update(Path(path).read_bytes())
    return digest.hexdigest()


def _is_word_char(char: str) -> bool:
    return unicodedata.category(char)[0] in "LMN"


def _uses_spaces(char: str) -> bool:
    """False for scripts written without spaces between words (CJK, Thai)."""
    name = unicodedata.name(char, "")
    return not any(script in name for script in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI"))


def locate_mentions(text: str, mentions: list[str]) -> list[tuple[int, int] | None]:
    """Find character offsets for actor mentions given as strings, in reading order.

    Each mention is matched at its next occurrence after the previous mention's match (so repeated
    mentions map to successive occurrences), preferring whole-word matches. ``None`` marks a mention
    not found.
    """
    located: list[tuple[int, int] | None] = []
    cursor = 0
    for mention in mentions:
        found = _find_whole(text, mention, cursor)
        if found is None:
            found = _find_whole(text, mention, 0)
        located.append(found)
        if found is not None:
            cursor = found[1]
    return located


def _find_whole(text: str, mention: str, cursor: int) -> tuple[int, int] | None:
    first_any = None
    start = text.find(mention, cursor)
    while mention and start != -1:
        end = start + len(mention)
        if first_any is None:
            first_any = (start, end)
        left_ok = start == 0 or not _is_word_char(text[start - 1]) or not _uses_spaces(text[start])
        right_ok = end == len(text) or not _is_word_char(text[end]) or not _uses_spaces(text[end - 1])
        if left_ok and right_ok:
            return start, end
        start = text.find(mention, start + 1)
    return first_any
