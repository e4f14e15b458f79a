"""Labelled data -> a new model version: loading, splitting, fine-tuning, calibration, evaluation, registry."""
