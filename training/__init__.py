"""EventLens training side: data, model, training loop, evaluation, export."""
