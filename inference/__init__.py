"""EventLens runtime: ONNX Runtime + tokenizers + numpy only (never torch or transformers)."""

from eventlens.inference.results import ActorResult, EventResult, TagResult
from eventlens.inference.tagger import DocumentResult, InputError, Tagger

__all__ = ["Tagger", "InputError", "TagResult", "EventResult", "ActorResult", "DocumentResult"]
