"""The runtime: ``Tagger.load(model_dir).tag(texts)`` on ONNX Runtime + tokenizers + numpy.

Batching: the int8 graph quantizes activations dynamically with one scale per model call, so a text's
scores would depend on which other texts share its batch (on the default model, 18% of 2,000 rows
changed a decision between two batchings). The int8 variant therefore runs every window alone — across
a thread pool, one ONNX Runtime thread each — so a text always gets the same result. The fp32 graph is
batch-invariant and runs length-sorted batches.

Input rule (documented once, applied everywhere): a non-string input raises :class:`InputError`
(a ``ValueError``) naming its position and type; an empty or whitespace-only string gives an empty
result (no events, no actors, every event score 0.0). Texts longer than the model's window are cut
into overlapping windows and merged, never truncated.

A ``Tagger`` is thread-safe: one ONNX Runtime session serves concurrent ``tag`` calls.
"""

from __future__ import annotations

import logging
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Iterable, Sequence, Union

import numpy as np

from eventlens.inference.decode import decode
from eventlens.inference.encoding import TextEncoder
from eventlens.inference.labels import LabelSchema
from eventlens.inference.manifest import (
    INPUT_NAMES, OUTPUT_NAMES, TOKENIZER_FILE, VARIANTS, ModelDirError, read_manifest, verify_files,
)
from eventlens.inference.results import TagResult
from eventlens.inference.runner import token_views
from eventlens.inference.sentences import split_sentences

logger = logging.getLogger(__name__)

#: A caller-given actor: ``(start, end)``, ``{"start": s, "end": e}``, or a string found in the text.
ActorSpec = Union[tuple[int, int], dict, str]


class InputError(ValueError):
    """An input the tagger cannot score (not a string, or a bad caller-given actor)."""


@dataclass(frozen=True)
class DocumentResult:
    """A document's sentences; each result's offsets point into the document text."""

    text: str
    sentences: list[TagResult]
    spans: list[tuple[int, int]]

    def to_dict(self) -> dict:
        return {
            "text": self.text,
            "sentences": [{"start": s, "end": e, **r.to_dict()} for (s, e), r in zip(self.spans, self.sentences)],
        }


class Tagger:
    """Event and actor-attitude tagging with an exported EventLens model directory."""

    def __init__(self, session, encoder: TextEncoder, schema: LabelSchema, thresholds: np.ndarray,
                 manifest: dict, batch_size: int = 8, workers: int = 1):
        self.session = session
        self.encoder = encoder
        self.schema = schema
        self.thresholds = thresholds
        self.manifest = manifest
        self.batch_size = batch_size
        self.workers = workers

    @classmethod
    def load(cls, model_dir: str | Path, variant: str = "int8", threads: int | None = None, batch_size: int | None = None,
             verify: bool = True) -> "Tagger":
        """Load a model directory written by ``eventlens export``.

        Args:
            model_dir: the exported directory (manifest, ONNX files, tokenizer).
            variant: ``"int8"`` (default, fastest) or ``"fp32"``.
            threads: CPU threads to use (default: all cores).
            batch_size: windows per model call. Default: 1 for int8 (see the module docstring), 8 for fp32
                (length-sorted; measured fastest on 2 CPU cores, larger batches pad more).
            verify: check the sha256 of the files used against the manifest.

        Raises:
            ModelDirError: a file is missing, corrupted or incompatible (the message names it).
        """
        import onnxruntime as ort

        if variant not in VARIANTS:
            raise ValueError(f"variant must be one of {sorted(VARIANTS)}, got {variant!r}")
        model_dir = Path(model_dir)
        manifest = read_manifest(model_dir)
        onnx_name = VARIANTS[variant]
        if verify:
            verify_files(model_dir, manifest, [onnx_name, TOKENIZER_FILE])
        try:
            schema = LabelSchema.from_dict(manifest["labels"])
        except ValueError as err:
            raise ModelDirError(f"{model_dir / 'manifest.json'}: labels: {err}") from None
        thresholds = np.asarray(manifest["thresholds"], dtype=np.float64)
        if thresholds.shape != (len(schema.events),):
            raise ModelDirError(f"{model_dir / 'manifest.json'}: {len(thresholds)} thresholds for {len(schema.events)} event labels")
        if not threads:
            threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        batch_size = batch_size or (1 if variant == "int8" else 8)
        # One window per call: parallelism comes from concurrent calls, one intra-op thread each.
        workers = threads if batch_size == 1 else 1
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1 if workers > 1 else threads
        try:
            session = ort.InferenceSession(str(model_dir / onnx_name), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises several private exception types
            raise ModelDirError(f"{model_dir / onnx_name}: cannot be loaded by onnxruntime: {err}") from None
        names = (tuple(i.name for i in session.get_inputs()), tuple(o.name for o in session.get_outputs()))
        if names != (INPUT_NAMES, OUTPUT_NAMES):
            raise ModelDirError(f"{model_dir / onnx_name}: inputs/outputs {names} differ from {(INPUT_NAMES, OUTPUT_NAMES)}")
        encoder = TextEncoder.from_file(model_dir / TOKENIZER_FILE, max_length=int(manifest["max_length"]))
        logger.info("loaded %s (%s, %d event labels)", model_dir, variant, len(schema.events))
        return cls(session, encoder, schema, thresholds, manifest, batch_size=batch_size, workers=workers)

    def run_batch(self, batch: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Raw logits ``(event, actor, attitude)`` for a padded batch from :meth:`TextEncoder.batch`."""
        feed = {name: batch[name] for name in INPUT_NAMES}
        return tuple(self.session.run(list(OUTPUT_NAMES), feed))

    def tag(self, texts: str | Sequence[str], actors: Sequence[ActorSpec] | Sequence[Sequence[ActorSpec] | None] | None = None):
        """Tag one text (returns a :class:`TagResult`) or a list of texts (returns a list).

        ``actors`` replaces predicted actor spans with caller-given targets whose attitude is scored:
        for one text a list of specs, for a list of texts a list of such lists (``None`` entries predict).
        A string spec matches every occurrence in the text.
        """
        single = isinstance(texts, str)
        batch = [texts] if single else list(texts)
        if actors is not None and single:
            actors = [actors]
        if actors is not None and len(actors) != len(batch):
            raise InputError(f"actors: got {len(actors)} lists for {len(batch)} texts")
        for i, text in enumerate(batch):
            if not isinstance(text, str):
                raise InputError(f"texts[{i}]: expected a string, got {type(text).__name__}")
        spans = [None if actors is None or actors[i] is None else _resolve_actors(text, actors[i], i)
                 for i, text in enumerate(batch)]
        live = [i for i, text in enumerate(batch) if text.strip()]
        views = self.token_views([batch[i] for i in live]) if live else []
        results = [self._empty(text) for text in batch]
        for i, view in zip(live, views):
            results[i] = decode(batch[i], view, self.schema, self.thresholds, spans=spans[i])
        return results[0] if single else results

    def token_views(self, texts: list[str]):
        """Merged per-text model outputs (the input of decoding and of evaluation metrics)."""
        return token_views(texts, self.encoder, self.run_batch, self.batch_size, self.workers)

    def tag_document(self, text: str) -> DocumentResult:
        """Split a document into sentences and tag each; offsets point into ``text``."""
        if not isinstance(text, str):
            raise InputError(f"document: expected a string, got {type(text).__name__}")
        spans = split_sentences(text)
        results = self.tag([text[s:e] for s, e in spans])
        return DocumentResult(text=text, sentences=[_shift(r, s) for r, (s, _) in zip(results, spans)], spans=spans)

    def tag_stream(self, texts: Iterable[str], chunk_size: int = 256) -> Iterable[TagResult]:
        """Tag an iterable lazily in chunks (bounded memory for archives)."""
        chunk: list[str] = []
        for text in texts:
            chunk.append(text)
            if len(chunk) == chunk_size:
                yield from self.tag(chunk)
                chunk = []
        if chunk:
            yield from self.tag(chunk)

    def _empty(self, text: str) -> TagResult:
        return TagResult(text=text, events=[], actors=[], event_scores={label: 0.0 for label in self.schema.events})

    @property
    def labels(self) -> dict[str, list[str]]:
        """The model's event and attitude labels, in output order."""
        return self.schema.to_dict()


def _resolve_actors(text: str, specs: Sequence[ActorSpec], index: int) -> list[tuple[int, int]]:
    spans = []
    for k, spec in enumerate(specs):
        where = f"actors[{index}][{k}]"
        if isinstance(spec, str):
            if not spec.strip():
                raise InputError(f"{where}: empty actor string")
            found = [(m.start(), m.end()) for m in re.finditer(re.escape(spec), text)]
            if not found:
                raise InputError(f"{where}: {spec!r} does not occur in the text")
            spans.extend(found)
            continue
        if isinstance(spec, dict):
            spec = (spec.get("start"), spec.get("end"))
        if not (isinstance(spec, (tuple, list)) and len(spec) == 2 and all(isinstance(v, int) for v in spec)):
            raise InputError(f"{where}: expected (start, end), {{'start', 'end'}} or a string, got {spec!r}")
        start, end = spec
        if not 0 <= start < end <= len(text) or not text[start:end].strip():
            raise InputError(f"{where}: span [{start}, {end}) is empty or outside the text (length {len(text)})")
        spans.append((start, end))
    return sorted(set(spans))


def _shift(result: TagResult, offset: int) -> TagResult:
    actors = [replace(a, start=a.start + offset, end=a.end + offset) for a in result.actors]
    return replace(result, actors=actors)
