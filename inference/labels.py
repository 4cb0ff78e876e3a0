"""The label schema shared by training and inference: event types, attitudes and actor BIO tags."""

from __future__ import annotations

from dataclasses import dataclass

#: BIO tags of the actor head, in output-column order.
ACTOR_TAGS = ("O", "B", "I")


@dataclass(frozen=True)
class LabelSchema:
    """Ordered event and attitude label sets; the order fixes the model's output columns."""

    events: tuple[str, ...]
    attitudes: tuple[str, ...]

    def __post_init__(self) -> None:
        for field_name in ("events", "attitudes"):
            values = tuple(getattr(self, field_name))
            object.__setattr__(self, field_name, values)
            if not values:
                raise ValueError(f"label schema: {field_name}: must list at least one label")
            if any(not isinstance(v, str) or not v.strip() for v in values):
                raise ValueError(f"label schema: {field_name}: labels must be non-empty strings")
            duplicates = sorted({v for v in values if values.count(v) > 1})
            if duplicates:
                raise ValueError(f"label schema: {field_name}: duplicate labels {duplicates}")

    @property
    def event2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.events)}

    @property
    def attitude2id(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.attitudes)}

    def to_dict(self) -> dict[str, list[str]]:
        return {"events": list(self.events), "attitudes": list(self.attitudes)}

    @classmethod
    def from_dict(cls, data: dict) -> "LabelSchema":
        """Build from a mapping with ``events`` and ``attitudes`` lists (a manifest or labels.yaml)."""
        if not isinstance(data, dict):
            raise ValueError("label schema: expected a mapping with 'events' and 'attitudes'")
        unknown = sorted(set(data) - {"events", "attitudes"})
        if unknown:
            raise ValueError(f"label schema: unknown keys {unknown} (allowed: events, attitudes)")
        missing = [k for k in ("events", "attitudes") if k not in data]
        if missing:
            raise ValueError(f"label schema: missing keys {missing}")
        return cls(events=tuple(data["events"]), attitudes=tuple(data["attitudes"]))
