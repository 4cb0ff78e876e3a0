"""PyTorch prediction through the runtime's batching and decoding (so both decode identically)."""

from __future__ import annotations

import torch

from eventlens.inference.runner import BatchRunner


def torch_runner(model: torch.nn.Module) -> BatchRunner:
    """A :data:`~eventlens.inference.runner.BatchRunner` over a PyTorch ``EventLensModel``."""

    device = next(model.parameters()).device

    def run(batch):
        model.eval()
        with torch.inference_mode():
            out = model(
                input_ids=torch.from_numpy(batch["input_ids"]).to(device),
                attention_mask=torch.from_numpy(batch["attention_mask"]).to(device),
            )
        return tuple(t.float().cpu().numpy() for t in (out.event_logits, out.actor_logits, out.attitude_logits))

    return run
