"""The EventLens model: any Hugging Face encoder plus event, actor (BIO) and attitude heads.

The config embeds the encoder's config and the ordered label sets, so a saved directory alone is
enough to rebuild the model and decode its outputs.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from transformers import AutoConfig, AutoModel, PretrainedConfig, PreTrainedModel
from transformers.utils import ModelOutput

from eventlens.inference.labels import ACTOR_TAGS, LabelSchema

IGNORE_INDEX = -100


class EventLensConfig(PretrainedConfig):
    """Encoder config (as a dict) + label sets + per-label event thresholds + maximum tokens per window.

    (``max_seq_length``, not ``max_length``: transformers reserves the latter for generation.)
    """

    model_type = "eventlens"

    def __init__(
        self,
        encoder_config: dict | None = None,
        event_labels: list[str] | None = None,
        attitude_labels: list[str] | None = None,
        event_thresholds: list[float] | None = None,
        max_seq_length: int = 128,
        dropout: float = 0.1,
        base_model: str = "",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.encoder_config = encoder_config or {}
        self.event_labels = list(event_labels or [])
        self.attitude_labels = list(attitude_labels or [])
        self.event_thresholds = list(event_thresholds or [0.5] * len(self.event_labels))
        self.max_seq_length = max_seq_length
        self.dropout = dropout
        self.base_model = base_model

    @property
    def schema(self) -> LabelSchema:
        return LabelSchema(events=tuple(self.event_labels), attitudes=tuple(self.attitude_labels))

    def to_dict(self) -> dict:
        # The label maps live in event_labels/attitude_labels; the generic classification maps
        # (id2label/label2id) would only store a second, misleading copy.
        output = super().to_dict()
        for key in ("id2label", "label2id"):
            output.pop(key, None)
        return output


@dataclass
class EventLensOutput(ModelOutput):
    """Model outputs.

    Attributes:
        loss: scalar, the weighted sum of the three masked losses (when labels are given).
        event_logits: ``(batch, n_events)`` multi-label logits over the pooled sentence vector.
        actor_logits: ``(batch, seq, 3)`` BIO logits per token (``O``, ``B``, ``I``).
        attitude_logits: ``(batch, seq, n_attitudes)`` per-token attitude logits (averaged over a
            span's tokens at decode time).
    """

    loss: torch.Tensor | None = None
    event_logits: torch.Tensor | None = None
    actor_logits: torch.Tensor | None = None
    attitude_logits: torch.Tensor | None = None


def _build_encoder(encoder_config: dict) -> nn.Module:
    config = AutoConfig.for_model(**encoder_config)
    try:
        return AutoModel.from_config(config, add_pooling_layer=False)
    except TypeError:  # encoders without a pooler option
        return AutoModel.from_config(config)


class EventLensModel(PreTrainedModel):
    """Encoder + heads; ``forward`` gives all three outputs in one pass, and the masked loss when
    labels are passed (a row without events or actors contributes nothing to that head's loss)."""

    config_class = EventLensConfig
    base_model_prefix = "eventlens"
    main_input_name = "input_ids"

    def __init__(self, config: EventLensConfig, encoder: nn.Module | None = None):
        super().__init__(config)
        self.encoder = encoder if encoder is not None else _build_encoder(config.encoder_config)
        hidden = self.encoder.config.hidden_size
        self.dropout = nn.Dropout(config.dropout)
        # Mean-pooled encoder states are highly anisotropic (a large shared component, small per-dimension
        # spread), which stalls a linear head. Standardising each dimension over the batch fixes that; at
        # inference the running statistics make it a fixed affine map (exported as such).
        self.event_norm = nn.BatchNorm1d(hidden)
        self.event_head = nn.Linear(hidden, len(config.event_labels))
        self.actor_head = nn.Linear(hidden, len(ACTOR_TAGS))
        self.attitude_head = nn.Linear(hidden, len(config.attitude_labels))
        self.loss_weights = (1.0, 1.0, 1.0)
        self.post_init()

    def _init_weights(self, module: nn.Module) -> None:
        # Heads keep PyTorch's default Linear initialisation; the encoder is pretrained or built
        # by its own class. Nothing to do here.
        return

    @classmethod
    def from_encoder(
        cls, encoder_path: str, schema: LabelSchema, max_length: int = 128, dropout: float = 0.1
    ) -> "EventLensModel":
        """A new model on a pretrained encoder (local directory or hub id), heads freshly initialised."""
        try:
            encoder = AutoModel.from_pretrained(encoder_path, add_pooling_layer=False)
        except TypeError:
            encoder = AutoModel.from_pretrained(encoder_path)
        config = EventLensConfig(
            encoder_config=encoder.config.to_dict(),
            event_labels=list(schema.events),
            attitude_labels=list(schema.attitudes),
            max_seq_length=max_length,
            dropout=dropout,
            base_model=str(encoder_path),
        )
        return cls(config, encoder=encoder)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        event_labels: torch.Tensor | None = None,
        event_mask: torch.Tensor | None = None,
        actor_labels: torch.Tensor | None = None,
        attitude_labels: torch.Tensor | None = None,
    ) -> EventLensOutput:
        """Args: ``input_ids``/``attention_mask`` ``(batch, seq)``; optional ``event_labels``
        ``(batch, n_events)`` floats with ``event_mask`` ``(batch,)`` (1 = events annotated);
        ``actor_labels``/``attitude_labels`` ``(batch, seq)`` with -100 where not annotated."""
        hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)
        norm = self.event_norm
        normed = nn.functional.batch_norm(  # batch statistics need two rows; a single row uses the running ones
            pooled, norm.running_mean, norm.running_var, norm.weight, norm.bias,
            training=self.training and pooled.shape[0] > 1, momentum=norm.momentum, eps=norm.eps,
        )
        event_logits = self.event_head(self.dropout(normed))
        tokens = self.dropout(hidden)
        actor_logits = self.actor_head(tokens)
        attitude_logits = self.attitude_head(tokens)

        loss = None
        if event_labels is not None or actor_labels is not None or attitude_labels is not None:
            w_event, w_actor, w_attitude = self.loss_weights
            loss = event_logits.new_zeros(())
            if event_labels is not None:
                loss = loss + w_event * masked_event_loss(event_logits, event_labels, event_mask)
            if actor_labels is not None:
                loss = loss + w_actor * token_loss(actor_logits, actor_labels)
            if attitude_labels is not None:
                loss = loss + w_attitude * token_loss(attitude_logits, attitude_labels)
        return EventLensOutput(
            loss=loss, event_logits=event_logits, actor_logits=actor_logits, attitude_logits=attitude_logits
        )


def masked_event_loss(logits: torch.Tensor, labels: torch.Tensor, row_mask: torch.Tensor | None) -> torch.Tensor:
    """Binary cross-entropy averaged over the rows whose events were annotated (``row_mask == 1``)."""
    per_element = nn.functional.binary_cross_entropy_with_logits(logits, labels.to(logits.dtype), reduction="none")
    weights = torch.ones_like(per_element) if row_mask is None else row_mask.to(logits.dtype).unsqueeze(-1).expand_as(per_element)
    total = weights.sum()
    return (per_element * weights).sum() / total if total > 0 else logits.new_zeros(())


def token_loss(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy over tokens whose label is not -100 (zero when none is labelled)."""
    valid = labels != IGNORE_INDEX
    if not valid.any():
        return logits.new_zeros(())
    return nn.functional.cross_entropy(logits[valid], labels[valid])


AutoConfig.register("eventlens", EventLensConfig)
