"""The JSON and pickled forms of a prediction: written out by hand for speed, so they must keep every field."""

from __future__ import annotations

import pickle
from dataclasses import asdict, fields

import orjson

from framelens.model.prediction import Evidence, FrameResult, StanceResult, TextPrediction


def _prediction() -> TextPrediction:
    why = [Evidence("Aid stalled in Congress.", 0, 24, 0.91), Evidence("Kyiv waits.", 25, 36, 0.4)]
    return TextPrediction(
        frames=[FrameResult("war_fatigue", 0.91, True, why), FrameResult("escalation", 0.02, False, [])],
        stance={
            "Ukraine": StanceResult("favor", {"favor": 0.7, "against": 0.1, "neutral": 0.2}, why[:1], True),
            "NATO": StanceResult("neutral", {"favor": 0.2, "against": 0.1, "neutral": 0.7}, why[1:], False),
        },
        windows=3,
        model_version="v20261202-000000-abcd",
    )


def test_to_dict_is_asdict_field_for_field() -> None:
    # Fails when a field is added to a result class and not to its to_dict.
    prediction = _prediction()
    assert prediction.to_dict() == asdict(prediction)
    assert orjson.loads(orjson.dumps(prediction.to_dict())) == asdict(prediction)


def test_without_evidence_only_the_evidence_lists_are_empty() -> None:
    full, bare = _prediction().to_dict(), _prediction().to_dict(evidence=False)
    for block in [*bare["frames"], *bare["stance"].values()]:
        assert block["evidence"] == []
    for block in [*full["frames"], *full["stance"].values()]:
        block["evidence"] = []
    assert bare == full


def test_to_dict_copies_so_callers_cannot_change_the_prediction() -> None:
    prediction = _prediction()
    data = prediction.to_dict()
    data["stance"]["Ukraine"]["scores"]["favor"] = 0.0
    data["frames"][0]["evidence"].clear()
    assert prediction.stance["Ukraine"].scores["favor"] == 0.7
    assert len(prediction.frames[0].evidence) == 2


def test_a_pickled_prediction_comes_back_whole() -> None:
    # Host workers send predictions to the main process pickled; __reduce__ lists the fields by hand.
    prediction = _prediction()
    back = pickle.loads(pickle.dumps(prediction, protocol=5))
    assert back == prediction and asdict(back) == asdict(prediction)
    for cls, obj in ((TextPrediction, back), (FrameResult, back.frames[0]), (StanceResult, back.stance["NATO"])):
        assert len(obj.__reduce__()[1]) == len(fields(cls)), f"{cls.__name__}.__reduce__ misses a field"
    assert back.stance["NATO"].seen_in_training is False
