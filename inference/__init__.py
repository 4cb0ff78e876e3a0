"""EventLens runtime: ONNX Runtime + tokenizers + numpy only."""
