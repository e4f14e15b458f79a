"""Batch scoring of article archives: readers, the resumable engine, output files, and the Ray engine."""
