"""The exported model-directory contract: file names, manifest format, checksum verification."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"
MODEL_INT8_FILE = "model.onnx"
MODEL_FP32_FILE = "model_fp32.onnx"
TOKENIZER_FILE = "tokenizer.json"
CARD_FILE = "README.md"
VARIANTS = {"int8": MODEL_INT8_FILE, "fp32": MODEL_FP32_FILE}
INPUT_NAMES = ("input_ids", "attention_mask")
OUTPUT_NAMES = ("event_logits", "actor_logits", "attitude_logits")


class ModelDirError(ValueError):
    """A model directory is missing a file, has a corrupted file, or is incompatible."""


def sha256_file(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def read_manifest(model_dir: str | Path) -> dict:
    """Read and check ``manifest.json`` (presence, JSON, format version, required keys)."""
    path = Path(model_dir) / MANIFEST_FILE
    if not path.is_file():
        raise ModelDirError(f"{path}: missing; is {model_dir} an exported EventLens model directory (eventlens export)?")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as err:
        raise ModelDirError(f"{path}: not valid JSON ({err})") from None
    version = manifest.get("format_version")
    if version != FORMAT_VERSION:
        raise ModelDirError(f"{path}: format_version {version!r} is not supported (this runtime reads {FORMAT_VERSION})")
    for key in ("labels", "thresholds", "max_length", "files"):
        if key not in manifest:
            raise ModelDirError(f"{path}: missing key {key!r}")
    return manifest


def verify_files(model_dir: str | Path, manifest: dict, names: list[str]) -> None:
    """Check that each named file exists and matches the manifest's sha256."""
    for name in names:
        path = Path(model_dir) / name
        expected = manifest["files"].get(name)
        if expected is None:
            raise ModelDirError(f"{path}: not listed in {MANIFEST_FILE}")
        if not path.is_file():
            raise ModelDirError(f"{path}: missing")
        actual = sha256_file(path)
        if actual != expected:
            raise ModelDirError(f"{path}: checksum mismatch (sha256 {actual[:12]}…, manifest says {expected[:12]}…); the file is corrupted or was modified")
