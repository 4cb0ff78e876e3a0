"""Result types of the runtime: plain dataclasses with one stable shape, convertible to dicts/JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class EventResult:
    """An event type whose probability passed its tuned threshold."""

    label: str
    score: float


@dataclass(frozen=True)
class ActorResult:
    """An actor mention: character offsets into the input, the attitude toward it and its scores."""

    start: int
    end: int
    text: str
    attitude: str
    score: float
    scores: dict[str, float]


@dataclass(frozen=True)
class TagResult:
    """Everything the model says about one text. ``event_scores`` holds every label's probability."""

    text: str
    events: list[EventResult]
    actors: list[ActorResult]
    event_scores: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """A JSON-ready dict; the same keys whatever the input."""
        return asdict(self)
