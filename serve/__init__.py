"""The faces of framelens: the `framelens` CLI and the HTTP API."""
