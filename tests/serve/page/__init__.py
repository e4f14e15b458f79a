"""Tests of the web page at / (serve/page/ and serve/routers/page.py) and of the jobs' trend report route."""
