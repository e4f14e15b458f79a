"""Tests of serve/jobs and its routes: scoring jobs over HTTP."""
