"""Tests of serve/report: trend reports rendered and opened in headless Chromium."""
