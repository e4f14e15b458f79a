"""Trend reports from scores files: frame shares and stance over time and by outlet, as HTML with PNG charts."""
