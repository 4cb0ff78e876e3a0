"""Partial rows train only the heads they annotate: a missing part is masked, never read as "no label"."""

import torch
from transformers import BertConfig

from eventlens.inference.encoding import TextEncoder
from eventlens.inference.labels import LabelSchema
from eventlens.training.data import Example, Span
from eventlens.training.features import Collator, featurize
from eventlens.training.modeling import EventLensConfig, EventLensModel

SCHEMA = LabelSchema(events=("ASSAULT", "PROTEST"), attitudes=("negative", "neutral", "positive"))


def tiny_model() -> EventLensModel:
    torch.manual_seed(0)
    encoder = BertConfig(vocab_size=250002, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)
    config = EventLensConfig(encoder_config=encoder.to_dict(), event_labels=list(SCHEMA.events),
                             attitude_labels=list(SCHEMA.attitudes), dropout=0.0)
    return EventLensModel(config)


def batch_for(examples, tiny_encoder_dir):
    encoder = TextEncoder.from_file(tiny_encoder_dir / "tokenizer.json", max_length=32)
    return Collator(encoder.pad_id)([featurize(e, encoder, SCHEMA)[0] for e in examples])


def test_unannotated_heads_get_masked_targets(tiny_encoder_dir):
    unannotated = Example("u", "en", "Police arrested protesters.", events=None, actors=None)
    batch = batch_for([unannotated], tiny_encoder_dir)
    assert batch["event_mask"].tolist() == [0.0]
    assert (batch["actor_labels"] == -100).all() and (batch["attitude_labels"] == -100).all()
    annotated_empty = Example("e", "en", "Police arrested protesters.", events=[], actors=[])
    batch = batch_for([annotated_empty], tiny_encoder_dir)
    assert batch["event_mask"].tolist() == [1.0]
    assert (batch["actor_labels"][batch["attention_mask"].bool()] != -100).sum() > 0  # "O" targets are real labels


def test_span_tokens_get_bio_and_attitude(tiny_encoder_dir):
    example = Example("s", "en", "Russian jets bombed Ariha.", events=["ASSAULT"], actors=[Span(0, 12, "negative")])
    batch = batch_for([example], tiny_encoder_dir)
    actor = batch["actor_labels"][0].tolist()
    attitude = batch["attitude_labels"][0].tolist()
    # <s> ▁Russian ▁je ts ▁bombe d ▁Ari ha . </s>
    assert actor == [-100, 1, 2, 2, 0, 0, 0, 0, 0, -100]
    assert attitude == [-100, 0, 0, 0, -100, -100, -100, -100, -100, -100]


def test_missing_part_contributes_no_gradient(tiny_encoder_dir):
    """If missing events were treated as "no event", the event head would get a gradient here."""
    model = tiny_model()
    actors_only = Example("a", "en", "Russian jets bombed Ariha.", events=None, actors=[Span(0, 12, "negative")])
    batch = batch_for([actors_only], tiny_encoder_dir)
    model(**batch).loss.backward()
    assert model.event_head.weight.grad is None or torch.count_nonzero(model.event_head.weight.grad) == 0
    assert torch.count_nonzero(model.actor_head.weight.grad) > 0

    model.zero_grad(set_to_none=True)
    events_only = Example("b", "en", "Russian jets bombed Ariha.", events=["ASSAULT"], actors=None)
    model(**batch_for([events_only], tiny_encoder_dir)).loss.backward()
    assert torch.count_nonzero(model.event_head.weight.grad) > 0
    for head in (model.actor_head, model.attitude_head):
        assert head.weight.grad is None or torch.count_nonzero(head.weight.grad) == 0


def test_masked_rows_do_not_change_the_loss(tiny_encoder_dir):
    model = tiny_model().eval()
    full = Example("f", "en", "Protesters rallied in Paris.", events=["PROTEST"], actors=[Span(0, 10, "neutral")])
    partial = Example("p", "en", "Police arrested protesters.", events=None, actors=None)
    alone = model(**batch_for([full], tiny_encoder_dir)).loss
    together = model(**batch_for([full, partial], tiny_encoder_dir)).loss
    torch.testing.assert_close(alone, together)
