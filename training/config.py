"""Typed run configuration, parsed from YAML and checked when built.

Unknown keys and out-of-range values fail at load time with the key's dotted name. Values are coerced
by field type, so ``learning_rate: 1e-5`` (a string to PyYAML) becomes a float.
"""

from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from eventlens.inference.labels import LabelSchema


class ConfigError(ValueError):
    """A configuration problem, naming the offending key."""


@dataclass
class DataConfig:
    """Where the labelled data lives. Relative paths resolve against the config file's folder."""

    train: list[str] = field(default_factory=lambda: ["../data/train.jsonl"])
    dev: list[str] = field(default_factory=lambda: ["../data/dev.jsonl"])
    test: list[str] = field(default_factory=lambda: ["../data/test.jsonl"])
    labels: str = "labels.yaml"


@dataclass
class ModelConfig:
    """The encoder and heads."""

    base_model: str = "eventlens/multilingual-e5-small-offline"
    max_length: int = 128
    dropout: float = 0.1
    freeze_word_embeddings: bool = True

    def check(self) -> None:
        _check_range("model.max_length", self.max_length, 8, 512)
        _check_range("model.dropout", self.dropout, 0.0, 0.9)


@dataclass
class TrainConfig:
    """Optimisation and model selection."""

    output_dir: str = "../runs/default"
    epochs: float = 4.0
    max_steps: int = -1
    batch_size: int = 16
    eval_batch_size: int = 64
    gradient_accumulation_steps: int = 1
    learning_rate: float = 5e-5
    head_learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.06
    seed: int = 13
    early_stopping_patience: int = 2
    event_loss_weight: float = 1.0
    actor_loss_weight: float = 1.0
    attitude_loss_weight: float = 1.0
    logging_steps: int = 20
    num_threads: int = 0

    def check(self) -> None:
        if self.epochs <= 0 and self.max_steps <= 0:
            raise ConfigError("train.epochs: must be > 0 (or set train.max_steps)")
        for name in ("batch_size", "eval_batch_size", "gradient_accumulation_steps", "logging_steps"):
            _check_range(f"train.{name}", getattr(self, name), 1, 1_000_000)
        _check_range("train.learning_rate", self.learning_rate, 1e-8, 1.0)
        _check_range("train.head_learning_rate", self.head_learning_rate, 1e-8, 1.0)
        _check_range("train.weight_decay", self.weight_decay, 0.0, 1.0)
        _check_range("train.warmup_ratio", self.warmup_ratio, 0.0, 0.5)
        _check_range("train.early_stopping_patience", self.early_stopping_patience, 0, 1000)
        _check_range("train.num_threads", self.num_threads, 0, 1024)
        for name in ("event_loss_weight", "actor_loss_weight", "attitude_loss_weight"):
            _check_range(f"train.{name}", getattr(self, name), 0.0, 100.0)


@dataclass
class RunConfig:
    """A whole run: data, model and training sections."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    root: Path = field(default=Path("."), metadata={"internal": True})

    def resolve(self, path: str) -> Path:
        """A config path made absolute against the config file's folder."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else (self.root / candidate)

    def labels(self) -> LabelSchema:
        """The label schema named by ``data.labels``."""
        return load_label_schema(self.resolve(self.data.labels))

    def to_dict(self) -> dict:
        return {
            section: dataclasses.asdict(getattr(self, section)) for section in ("data", "model", "train")
        }


def _check_range(name: str, value, low, high) -> None:
    if not low <= value <= high:
        raise ConfigError(f"{name}: {value!r} is out of range [{low}, {high}]")


def _coerce(name: str, value, hint):
    origin = typing.get_origin(hint)
    if origin is list:
        (item_type,) = typing.get_args(hint)
        if isinstance(value, (str, int, float)):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"{name}: expected a list, got {type(value).__name__}")
        return [_coerce(f"{name}[{i}]", v, item_type) for i, v in enumerate(value)]
    if hint is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{name}: expected true or false, got {value!r}")
    if hint in (int, float):
        if isinstance(value, bool):
            raise ConfigError(f"{name}: expected a number, got {value!r}")
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{name}: expected a number, got {value!r}") from None
        if hint is int:
            if not number.is_integer():
                raise ConfigError(f"{name}: expected an integer, got {value!r}")
            return int(number)
        return number
    if hint is str:
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise ConfigError(f"{name}: expected a string, got {value!r}")
        return str(value)
    raise ConfigError(f"{name}: unsupported type {hint}")


def _build_section(cls, name: str, values) -> object:
    if values is None:
        values = {}
    if not isinstance(values, dict):
        raise ConfigError(f"{name}: expected a mapping")
    hints = typing.get_type_hints(cls)
    fields = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - fields)
    if unknown:
        raise ConfigError(f"{name}.{unknown[0]}: unknown key (allowed: {', '.join(sorted(fields))})")
    section = cls(**{key: _coerce(f"{name}.{key}", value, hints[key]) for key, value in values.items()})
    if hasattr(section, "check"):
        section.check()
    return section


def config_from_dict(values: dict, root: Path = Path(".")) -> RunConfig:
    """Build and check a :class:`RunConfig` from a plain mapping (e.g. parsed YAML)."""
    if not isinstance(values, dict):
        raise ConfigError("config: expected a mapping at the top level")
    sections = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig}
    unknown = sorted(set(values) - set(sections))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown key (allowed: {', '.join(sections)})")
    built = {name: _build_section(cls, name, values.get(name)) for name, cls in sections.items()}
    return RunConfig(**built, root=root)


def load_config(path: str | Path, overrides: dict | None = None) -> RunConfig:
    """Load a YAML run config. Relative paths in it resolve against the config file's folder.

    ``overrides`` maps dotted keys (``"train.epochs"``) to values applied before checking.
    """
    path = Path(path)
    try:
        values = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as err:
        raise ConfigError(f"{path}: not valid YAML: {err}") from None
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        if not key:
            raise ConfigError(f"{dotted}: overrides must look like section.key")
        values.setdefault(section, {})[key] = value
    try:
        return config_from_dict(values, root=path.resolve().parent)
    except ConfigError as err:
        raise ConfigError(f"{path}: {err}") from None


def load_label_schema(path: str | Path) -> LabelSchema:
    """Read ``events`` and ``attitudes`` from a labels YAML file."""
    path = Path(path)
    try:
        return LabelSchema.from_dict(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValueError) as err:
        raise ConfigError(f"{path}: {err}") from None
