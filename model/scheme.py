"""A label scheme: the frames (multi-label) and the stance labels and default targets, loaded from JSON."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

from framelens.model.errors import FramelensError

# The seeds ship as package data, so schemes and the default corpus are found in a wheel as in a checkout.
SEEDS_DIR = Path(str(files("framelens").joinpath("seeds")))
SCHEMES_DIR = SEEDS_DIR / "schemes"
_KEYS = {"name", "description", "frames", "stance"}
_STANCE_KEYS = {"labels", "targets", "descriptions"}


@dataclass(frozen=True)
class Frame:
    name: str
    description: str = ""


@dataclass(frozen=True)
class Scheme:
    """Frames and stance are each optional, but a scheme needs at least one of them."""

    name: str
    frames: tuple[Frame, ...] = ()
    stance_labels: tuple[str, ...] = ()
    default_targets: tuple[str, ...] = ()
    description: str = ""
    stance_descriptions: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.frames and not self.stance_labels:
            raise FramelensError(f"scheme {self.name!r} declares no frames and no stance labels; add at least one")
        names = [f.name for f in self.frames]
        if len(set(names)) != len(names):
            raise FramelensError(f"scheme {self.name!r} lists a frame twice: {names}")
        if self.stance_labels and len(self.stance_labels) < 2:
            raise FramelensError(f"scheme {self.name!r}: stance needs at least two labels")

    @property
    def frame_names(self) -> list[str]:
        return [f.name for f in self.frames]

    @property
    def has_frames(self) -> bool:
        return bool(self.frames)

    @property
    def has_stance(self) -> bool:
        return bool(self.stance_labels)

    def nearest_frame(self, label: str) -> str | None:
        match = difflib.get_close_matches(label, self.frame_names, n=1, cutoff=0.0)
        return match[0] if match else None

    def nearest_stance(self, label: str) -> str | None:
        match = difflib.get_close_matches(label, list(self.stance_labels), n=1, cutoff=0.0)
        return match[0] if match else None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "description": self.description,
            "frames": [{"name": f.name, "description": f.description} for f in self.frames],
        }
        if self.has_stance:
            data["stance"] = {
                "labels": list(self.stance_labels),
                "targets": list(self.default_targets),
                "descriptions": dict(self.stance_descriptions),
            }
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "scheme") -> Scheme:
        unknown = set(data) - _KEYS
        if unknown:
            raise FramelensError(f"{source}: unknown key(s) {sorted(unknown)}; allowed: {sorted(_KEYS)}")
        if not isinstance(data.get("name"), str) or not data["name"]:
            raise FramelensError(f"{source}: 'name' must be a non-empty string")
        frames = []
        for i, item in enumerate(data.get("frames") or []):
            if isinstance(item, str):
                item = {"name": item}
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                raise FramelensError(f"{source}: frames[{i}] must be a name or {{'name': …, 'description': …}}")
            frames.append(Frame(item["name"], str(item.get("description", ""))))
        stance = data.get("stance") or {}
        if stance:
            bad = set(stance) - _STANCE_KEYS
            if bad:
                raise FramelensError(f"{source}: unknown stance key(s) {sorted(bad)}; allowed: {sorted(_STANCE_KEYS)}")
        return cls(
            name=data["name"],
            frames=tuple(frames),
            stance_labels=tuple(stance.get("labels") or ()),
            default_targets=tuple(stance.get("targets") or ()),
            description=str(data.get("description", "")),
            stance_descriptions=dict(stance.get("descriptions") or {}),
        )

    @classmethod
    def load(cls, name_or_path: str | Path) -> Scheme:
        """Load a scheme by its name in seeds/schemes/ or by a path to a JSON file."""
        path = Path(name_or_path)
        if not path.suffix and not path.exists():
            path = SCHEMES_DIR / f"{name_or_path}.json"
        if not path.is_file():
            known = sorted(p.stem for p in SCHEMES_DIR.glob("*.json"))
            raise FramelensError(f"no scheme {str(name_or_path)!r}: give a JSON file path or one of {known}")
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise FramelensError(f"{path}: line {exc.lineno}: broken JSON ({exc.msg})") from None
        return cls.from_dict(data, source=str(path))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
