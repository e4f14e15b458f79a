"""framelens: stance and framing classifier service for news coverage.

The package's parts live in the checkout's top-level folders (`model/`, `training/`, `serve/`, `seeds/`), linked
here so that an installed framelens is one import namespace: `framelens.model`, `framelens.training`,
`framelens.serve`, with the seeds as package data (`framelens.seeds`).
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("framelens")
except PackageNotFoundError:  # running from a checkout that was never installed
    __version__ = "0.0.0"
