from __future__ import annotations

import json
from pathlib import Path

import pytest

from framelens.model.errors import FramelensError
from framelens.model.scheme import Scheme


def test_default_scheme_follows_the_label_guide() -> None:
    scheme = Scheme.load("ukraine-war")
    assert scheme.frame_names == [
        "negotiation",
        "victory",
        "war_fatigue",
        "military_aid",
        "escalation",
        "humanitarian",
        "economic",
        "alliances",
        "domestic_politics",
    ]
    assert scheme.stance_labels == ("favor", "against", "neutral")
    assert scheme.default_targets == ("Ukraine", "Russia")
    assert all(f.description for f in scheme.frames)


def test_frames_only_and_stance_only_schemes_load() -> None:
    assert not Scheme.load("narrative-frames").has_stance
    stance_only = Scheme.load("claim-stance")
    assert not stance_only.has_frames and stance_only.stance_labels == ("favor", "against")


def test_unknown_keys_and_empty_schemes_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"name": "x", "frame": ["a"]}))
    with pytest.raises(FramelensError, match="unknown key"):
        Scheme.load(bad)
    bad.write_text(json.dumps({"name": "x"}))
    with pytest.raises(FramelensError, match="no frames and no stance"):
        Scheme.load(bad)
    with pytest.raises(FramelensError, match="ukraine-war"):
        Scheme.load("no-such-scheme")
