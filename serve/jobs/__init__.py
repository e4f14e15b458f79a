"""Scoring jobs of the HTTP API: a SQLite job store and a background worker running the resumable engine."""
