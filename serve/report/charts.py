"""The report's PNG charts (matplotlib, Agg backend): each with a title, labelled axes and a legend."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only: no display, safe in a server thread

import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from framelens.serve.report.trends import Trends, periods, roll_up

STANCE_COLOURS = {"favor": "#2e7d32", "against": "#c62828", "neutral": "#9e9e9e"}
MAX_OUTLETS = 15
SMOOTH = 3  # periods pooled for the rolling share: a month of ~30 articles alone moves a share by 3 points each
DPI = 110


def _save(fig: Any, path: Path) -> Path:
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def _period_axis(ax: Any, period: str) -> None:
    ax.set_xlabel("week (starting Monday)" if period == "week" else "month")
    ax.grid(True, alpha=0.3)


def frames_overall(t: Trends, path: Path) -> Path:
    frames = sorted(t.frames, key=lambda f: t.frame_total[f])  # the most frequent on top
    shares = [100 * t.frame_total[f] / max(t.articles, 1) for f in frames]
    fig, ax = plt.subplots(figsize=(8, 0.45 * len(frames) + 1.5))
    bars = ax.barh(frames, shares, color="#1565c0")
    ax.bar_label(bars, fmt="%.0f%%", padding=3)
    ax.set_xlabel("share of articles with the frame (%)")
    ax.set_ylabel("frame")
    ax.set_xlim(0, max([*shares, 1]) * 1.15)
    ax.set_title(f"How often each frame appears ({t.articles:,} articles)")
    return _save(fig, path)


def frames_over_time(t: Trends, period: str, path: Path) -> Path:
    """Small multiples, one panel per frame (most frequent first) on shared axes: the share in each period as faint
    dots, a rolling share over `SMOOTH` periods as the line, the frame's overall share dashed; articles per period
    in a strip below. Nine lines in one plot cannot be read; nine panels can."""
    buckets = periods(t, period)
    articles = roll_up(t.day_articles, period)
    frames = roll_up(t.day_frames, period)
    order = sorted(t.frames, key=lambda f: -t.frame_total[f])
    columns = min(3, len(order))
    rows = -(-len(order) // columns)
    fig = plt.figure(figsize=(4.2 * columns, 2.3 * rows + 1.8), constrained_layout=True)
    grid = fig.add_gridspec(rows + 1, columns, height_ratios=[3] * rows + [1.6])
    counts = [articles.get(b, 0) for b in buckets]
    first: Any = None
    for k, frame in enumerate(order):
        ax: Any = fig.add_subplot(grid[k // columns, k % columns], sharex=first, sharey=first)
        first = first or ax
        hits = [frames.get(b, {}).get(frame, 0) for b in buckets]
        raw = [100 * h / n if n else float("nan") for h, n in zip(hits, counts, strict=True)]
        ax.plot(buckets, raw, "o", markersize=2.5, color="#90caf9", label=f"each {period}")
        ax.plot(buckets, _rolling_share(hits, counts), color="#0d47a1", linewidth=2, label=f"{SMOOTH}-{period} rolling")
        ax.axhline(100 * t.frame_total[frame] / max(t.articles, 1), color="#555", linestyle="--", linewidth=1)
        ax.set_title(frame, fontsize=11)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelbottom=k >= len(order) - columns)  # dates under the last panel of each column
        if k % columns == 0:
            ax.set_ylabel("% of articles")
        if k == 0:
            ax.legend(loc="upper left", fontsize=8, frameon=False)
    first.set_ylim(bottom=0)
    locator = mdates.AutoDateLocator()  # shared by every panel: the same dates line up down the grid
    first.xaxis.set_major_locator(locator)
    first.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    strip: Any = fig.add_subplot(grid[rows, :], sharex=first)
    strip.bar(buckets, counts, width=5 if period == "week" else 20, color="#90a4ae")
    strip.set_ylabel("articles")
    _period_axis(strip, period)
    fig.suptitle(f"Share of articles with each frame, by {period} (dashed: the frame's share over all articles)")
    return _save(fig, path)


def _rolling_share(hits: list[int], counts: list[int]) -> list[float]:
    """Articles with the frame over articles, pooled over the last `SMOOTH` periods (NaN while none)."""
    out = []
    for i in range(len(hits)):
        n = sum(counts[max(0, i - SMOOTH + 1) : i + 1])
        out.append(100 * sum(hits[max(0, i - SMOOTH + 1) : i + 1]) / n if n else float("nan"))
    return out


def frames_by_outlet(t: Trends, path: Path) -> Path:
    outlets = [o for o, _ in t.outlet_articles.most_common(MAX_OUTLETS)]
    grid = [[100 * t.outlet_frames[o][f] / t.outlet_articles[o] for f in t.frames] for o in outlets]
    fig, ax = plt.subplots(figsize=(1.1 * len(t.frames) + 3, 0.45 * len(outlets) + 2))
    image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=100, aspect="auto")
    for i, row in enumerate(grid):
        for j, share in enumerate(row):
            ax.text(j, i, f"{share:.0f}", ha="center", va="center", color="white" if share > 60 else "black")
    ax.set_xticks(range(len(t.frames)), t.frames, rotation=35, ha="right")
    ax.set_yticks(range(len(outlets)), [f"{o} ({t.outlet_articles[o]})" for o in outlets])
    ax.set_xlabel("frame")
    ax.set_ylabel("outlet (articles)")
    more = f", top {MAX_OUTLETS} of {len(t.outlet_articles)}" if len(t.outlet_articles) > MAX_OUTLETS else ""
    ax.set_title(f"Share of each outlet's articles with each frame (%{more})")
    fig.colorbar(image, ax=ax, label="share of the outlet's articles (%)")
    return _save(fig, path)


def stance_over_time(t: Trends, period: str, path: Path) -> Path:
    buckets = periods(t, period)
    fig, axes = plt.subplots(
        len(t.targets), 1, figsize=(11, 2.8 * len(t.targets) + 0.8), sharex=True, squeeze=False, constrained_layout=True
    )
    for ax, target in zip(axes[:, 0], t.targets, strict=True):
        counts = roll_up(t.day_stance[target], period)
        totals = [sum(counts.get(b, {}).values()) for b in buckets]
        layers = [
            [100 * counts.get(b, {}).get(label, 0) / n if n else 0.0 for b, n in zip(buckets, totals, strict=True)]
            for label in t.stance_labels
        ]
        colours = [STANCE_COLOURS.get(label) for label in t.stance_labels]
        ax.stackplot(_dates(buckets), layers, labels=t.stance_labels, colors=colours, alpha=0.85)
        ax.set_ylim(0, 100)
        ax.set_ylabel("share of articles (%)")
        ax.set_title(f"Stance toward {target}, by {period}")
        ax.legend(title="stance", loc="upper left", bbox_to_anchor=(1.01, 1.0))
        ax.grid(True, alpha=0.3)
    _period_axis(axes[-1, 0], period)
    fig.autofmt_xdate()
    return _save(fig, path)


def _dates(buckets: list[dt.date]) -> list[dt.datetime]:
    return [dt.datetime(b.year, b.month, b.day) for b in buckets]
