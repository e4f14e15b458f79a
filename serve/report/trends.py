"""Counts behind the trend report, gathered in one streaming pass over a scores file (memory: days x labels)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

WEEKLY_UP_TO_DAYS = 183  # spans up to about half a year are shown by week, longer ones by month


@dataclass
class Trends:
    articles: int = 0
    undated: int = 0
    frames: list[str] = field(default_factory=list)
    targets: list[str] = field(default_factory=list)
    stance_labels: list[str] = field(default_factory=list)
    versions: Counter[str] = field(default_factory=Counter)
    frame_total: Counter[str] = field(default_factory=Counter)
    stance_total: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    outlet_articles: Counter[str] = field(default_factory=Counter)
    outlet_frames: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    day_articles: Counter[dt.date] = field(default_factory=Counter)
    day_frames: dict[dt.date, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    day_stance: dict[str, dict[dt.date, Counter[str]]] = field(default_factory=lambda: defaultdict(_by_day))

    @property
    def span(self) -> tuple[dt.date, dt.date] | None:
        return (min(self.day_articles), max(self.day_articles)) if self.day_articles else None


def _by_day() -> defaultdict[dt.date, Counter[str]]:
    return defaultdict(Counter)


def gather(rows: Iterable[dict[str, Any]]) -> Trends:
    t = Trends()
    for row in rows:
        t.articles += 1
        if not t.frames:
            t.frames = list(row.get("scores") or {})
        for target, scores in (row.get("stance_scores") or {}).items():
            if target not in t.targets:
                t.targets.append(target)
            t.stance_labels = t.stance_labels or list(scores)
        t.versions[str(row.get("model_version") or "unknown")] += 1
        labels = list(row.get("labels") or [])
        stance: dict[str, str] = row.get("stance") or {}
        t.frame_total.update(labels)
        for target, label in stance.items():
            t.stance_total[target][label] += 1
        outlet = row.get("outlet")
        if outlet:
            t.outlet_articles[outlet] += 1
            t.outlet_frames[outlet].update(labels)
        day = parse_date(row.get("date"))
        if day is None:
            t.undated += 1
            continue
        t.day_articles[day] += 1
        t.day_frames[day].update(labels)
        for target, label in stance.items():
            t.day_stance[target][day][label] += 1
    return t


def parse_date(value: object) -> dt.date | None:
    """ISO dates and datetimes (2023-12-28, 2023-12-28T10:00:00Z); anything else counts as undated."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def choose_period(trends: Trends, period: str = "auto") -> str:
    if period in ("week", "month"):
        return period
    span = trends.span
    return "week" if span is None or (span[1] - span[0]).days <= WEEKLY_UP_TO_DAYS else "month"


def period_start(day: dt.date, period: str) -> dt.date:
    return day - dt.timedelta(days=day.weekday()) if period == "week" else day.replace(day=1)


def periods(trends: Trends, period: str) -> list[dt.date]:
    """Every period from the first dated article to the last, empty ones included (a gap is data too)."""
    span = trends.span
    if span is None:
        return []
    current, last, out = period_start(span[0], period), period_start(span[1], period), []
    while current <= last:
        out.append(current)
        if period == "week":
            current += dt.timedelta(days=7)
        else:
            current = (current.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return out


def roll_up(per_day: dict[dt.date, Counter[str]] | Counter[dt.date], period: str) -> dict[dt.date, Any]:
    """Per-day counts summed per period (a Counter of days gives article counts; a dict of Counters, labels)."""
    out: dict[dt.date, Any] = {}
    for day, value in per_day.items():
        key = period_start(day, period)
        if isinstance(value, Counter):
            out.setdefault(key, Counter()).update(value)
        else:
            out[key] = out.get(key, 0) + value
    return out
