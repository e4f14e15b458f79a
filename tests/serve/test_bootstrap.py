"""`framelens bootstrap`: the default model, and with FRAMELENS_HYBRID_RECIPE a second stage that answers any target."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from framelens.model.predictor import Predictor
from framelens.serve.cli import main
from framelens.training.registry import Registry
from tests.fixtures import grain_deal_rows, tiny_rows, write_jsonl
from tests.serve.conftest import tiny_serving_config


def recipe(path: Path, encoder: Path, **options: object) -> Path:
    """conftest's tiny training config, with `options`, as a recipe file."""
    path.write_text(json.dumps(tiny_serving_config(encoder).replace(**options).to_dict()), encoding="utf-8")
    return path


@pytest.mark.parametrize("stage_two", ["init_from", "distill_from"])  # two-stage / one-stage distilled hybrid
def test_bootstrap_trains_heads_then_the_hybrid_stage_from_them_and_only_once(
    stage_two: str,
    tiny_encoder: Path,
    tiny_scheme_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = [{**row, "id": f"grain-{row['id']}"} for row in grain_deal_rows()]
    monkeypatch.setenv("FRAMELENS_SEED_DATA", json.dumps([str(write_jsonl(tmp_path / "seeds.jsonl", tiny_rows()))]))
    monkeypatch.setenv("FRAMELENS_HYBRID_DATA", json.dumps([str(write_jsonl(tmp_path / "grain.jsonl", rows))]))
    monkeypatch.setenv("FRAMELENS_THREADS", "1")
    monkeypatch.setenv("FRAMELENS_DEFAULT_SCHEME", str(tiny_scheme_file))
    monkeypatch.setenv("FRAMELENS_DEFAULT_RECIPE", str(recipe(tmp_path / "r.json", tiny_encoder, epochs=2)))
    options = {stage_two: "active", "epochs": 1, "stance_mode": "hybrid", "distill_weight": 1.0}
    hybrid = recipe(tmp_path / "h.json", tiny_encoder, **options)
    monkeypatch.setenv("FRAMELENS_HYBRID_RECIPE", str(hybrid))
    home = tmp_path / "models"

    assert main(["--home", str(home), "bootstrap"]) == 0
    registry = Registry(home)
    first, second = registry.versions()
    assert registry.active() == second
    meta = json.loads((registry.path(second) / "metadata.json").read_text())
    config = json.loads((registry.path(second) / "training_config.json").read_text())
    assert config[stage_two] == first, "'active' in the recipe is the first stage, by id"
    if stage_two == "distill_from":
        assert config["init_from"] == str(tiny_encoder), "the one-stage hybrid trains afresh from the encoder"
    assert meta["stance_open_targets"] and meta["stance_targets"] == ["Ukraine", "Russia"]
    assert len(meta["data"]["files"]) == 2, "the second stage trains on the seeds and the targets corpus"
    (answer,) = Predictor.load(registry.path(second)).classify([rows[0]["text"]], targets=["Ukraine", "NATO"])
    assert answer.stance["NATO"].seen_in_training is False and answer.stance["Ukraine"].seen_in_training
    out = capsys.readouterr().out
    assert "second stage" in out and f"default model {second}" in out

    assert main(["--home", str(home), "bootstrap"]) == 0
    assert registry.versions() == [first, second], "a second bootstrap trains nothing"
    assert "default model ready" in capsys.readouterr().out


def test_a_hybrid_recipe_that_is_not_there_stops_bootstrap_before_it_trains(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FRAMELENS_HYBRID_RECIPE", str(tmp_path / "no-such-recipe.json"))
    assert main(["--home", str(tmp_path / "models"), "bootstrap"]) == 2
    err = capsys.readouterr().err
    assert "FRAMELENS_HYBRID_RECIPE" in err and "no-such-recipe.json" in err
    assert not (tmp_path / "models" / "versions").exists()
