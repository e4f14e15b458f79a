"""Tests of serve/scoring: readers, the resumable engine, outputs, the Ray engine."""
