"""`write_report`: one HTML page (charts embedded, so it opens from disk anywhere) plus the PNGs beside it."""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from framelens.model.errors import FramelensError
from framelens.serve.report import charts
from framelens.serve.report.trends import Trends, choose_period, gather, periods, roll_up
from framelens.serve.scoring.output import read_rows

CSS = """body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#212121;padding:0 1rem}
table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #ccc;padding:.3rem .7rem;text-align:right}
th:first-child,td:first-child{text-align:left}th{background:#eceff1}figure{margin:2rem 0}
img.chart{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:.9rem}"""


@dataclass(frozen=True)
class Report:
    path: Path
    articles: int
    period: str
    charts: list[Path]


def write_report(scores: Path, out: Path, period: str = "auto", title: str = "Framing and stance trends") -> Report:
    trends = gather(read_rows(scores))
    if trends.articles == 0:
        raise FramelensError(f"{scores} has no scored articles: score an archive first (`framelens score`)")
    chosen = choose_period(trends, period)
    out.parent.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[str, str, Path]] = []

    def chart(key: str, caption: str, draw: Callable[[Path], Path]) -> None:
        figures.append((key, caption, draw(out.with_name(f"{out.stem}-{key}.png"))))

    if trends.frames:  # a stance-only scheme has none
        chart("frames-overall", "Share of all articles with each frame.", lambda p: charts.frames_overall(trends, p))
    if trends.frames and trends.span is not None:
        chart(
            "frames-over-time",
            f"Share of each {chosen}'s articles with each frame (top); articles per {chosen} (bottom).",
            lambda p: charts.frames_over_time(trends, chosen, p),
        )
    if trends.frames and trends.outlet_articles:
        chart(
            "frames-by-outlet",
            "Share of each outlet's articles with each frame; darker is more.",
            lambda p: charts.frames_by_outlet(trends, p),
        )
    if trends.targets and trends.span is not None:
        chart(
            "stance-over-time",
            f"Stance per target: share of each {chosen}'s articles that favour, oppose or are neutral.",
            lambda p: charts.stance_over_time(trends, chosen, p),
        )
    body = [f"<h1>{_e(title)}</h1>", _summary(trends, chosen, scores)]
    if trends.frames:
        body.append(_frame_table(trends, chosen))
    if trends.targets:
        body.append(_stance_table(trends))
    for key, caption, path in figures:
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        body.append(
            f'<figure id="{key}"><img class="chart" id="chart-{key}" alt="{_e(caption)}" '
            f'src="data:image/png;base64,{data}"><figcaption>{_e(caption)} '
            f'<a href="{_e(path.name)}">{_e(path.name)}</a></figcaption></figure>'
        )
    page = (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{CSS}</style></head><body>\n" + "\n".join(body) + "\n</body></html>\n"
    )
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return Report(out, trends.articles, chosen, [path for _, _, path in figures])


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _summary(t: Trends, period: str, scores: Path) -> str:
    span = t.span
    when = f"from {span[0]} to {span[1]}, shown by {period}" if span else "none of them dated"
    undated = f"; {t.undated:,} without a date are left out of the charts over time" if t.undated and span else ""
    outlets = f"{len(t.outlet_articles):,} outlets" if t.outlet_articles else "no outlet given"
    versions = ", ".join(f"{v} ({n:,})" for v, n in t.versions.most_common())
    return (
        f'<p id="summary"><strong>{t.articles:,} articles</strong> in {_e(scores.name)}, {_e(when)}{_e(undated)}. '
        f"{_e(outlets)}. Scored by model {_e(versions)}.</p>"
    )


def _frame_table(t: Trends, period: str) -> str:
    articles, frames = roll_up(t.day_articles, period), roll_up(t.day_frames, period)
    buckets = [b for b in periods(t, period) if articles.get(b)]
    head = "<tr><th>frame</th><th>articles</th><th>share</th>"
    if len(buckets) >= 2:
        head += f"<th>first {period} ({buckets[0]})</th><th>last {period} ({buckets[-1]})</th><th>change</th>"
    rows = []
    for frame in sorted(t.frames, key=lambda f: -t.frame_total[f]):
        n = t.frame_total[frame]
        cells = f"<td>{_e(frame)}</td><td>{n:,}</td><td>{_pct(n, t.articles)}</td>"
        if len(buckets) >= 2:
            first = 100 * frames[buckets[0]][frame] / articles[buckets[0]]
            last = 100 * frames[buckets[-1]][frame] / articles[buckets[-1]]
            cells += f"<td>{first:.0f}%</td><td>{last:.0f}%</td><td>{last - first:+.0f} pts</td>"
        rows.append(f"<tr>{cells}</tr>")
    return f'<h2>Frames</h2><table id="frames-table">{head}</tr>{"".join(rows)}</table>'


def _stance_table(t: Trends) -> str:
    head = "".join(f"<th>{_e(label)}</th>" for label in t.stance_labels)
    rows = []
    for target in t.targets:
        counts, n = t.stance_total[target], sum(t.stance_total[target].values())
        cells = "".join(f"<td>{_pct(counts[label], n)}</td>" for label in t.stance_labels)
        rows.append(f"<tr><td>{_e(target)}</td>{cells}</tr>")
    return f'<h2>Stance</h2><table id="stance-table"><tr><th>target</th>{head}</tr>{"".join(rows)}</table>'


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"
