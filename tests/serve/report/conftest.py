"""The tiny model's predictor, shared with the scoring tests."""

from tests.serve.scoring.conftest import predictor

__all__ = ["predictor"]
