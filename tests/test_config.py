"""Typed configs: unknown keys and bad values fail at load with the key's name; types are coerced."""

import pytest

from eventlens.training.config import ConfigError, config_from_dict, load_config

from conftest import REPO


def test_bundled_configs_load():
    default = load_config(REPO / "configs" / "default.yaml")
    assert default.model.base_model == "eventlens/multilingual-e5-small-offline"
    assert default.resolve(default.data.train[0]) == REPO / "configs" / ".." / "data" / "train.jsonl"
    assert load_config(REPO / "configs" / "tiny.yaml").model.base_model == "eventlens/tiny-random-bert"
    assert len(default.labels().events) == 16


def test_string_numbers_are_coerced(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  learning_rate: 1e-5\n  epochs: 3\n")
    config = load_config(path)
    assert config.train.learning_rate == 1e-5 and isinstance(config.train.learning_rate, float)


@pytest.mark.parametrize(
    "values, message",
    [
        ({"train": {"learnin_rate": 1e-5}}, "train.learnin_rate: unknown key"),
        ({"trian": {}}, "trian: unknown key"),
        ({"train": {"batch_size": 0}}, "train.batch_size: 0 is out of range"),
        ({"train": {"batch_size": 2.5}}, "train.batch_size: expected an integer"),
        ({"model": {"dropout": "high"}}, "model.dropout: expected a number"),
        ({"model": {"freeze_word_embeddings": "yes"}}, "model.freeze_word_embeddings: expected true or false"),
        ({"model": {"max_length": 4096}}, "model.max_length: 4096 is out of range"),
    ],
)
def test_bad_values_name_the_key(values, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        config_from_dict(values)


def test_overrides_apply_before_checks(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("train:\n  epochs: 3\n")
    assert load_config(path, overrides={"train.epochs": 1}).train.epochs == 1
    with pytest.raises(ConfigError, match="train.epochs"):
        load_config(path, overrides={"train.epochs": -1})
