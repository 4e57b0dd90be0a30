"""A self-contained HTML report of one scoring run, for planners who decide by looking.

The page holds:

* a map of the accounts, reach against credibility, coloured by segment, suspicious accounts
  drawn as crosses and the shortlisted accounts ringed and tagged (``M1`` ... for the mass
  shortlist, ``m1`` ... for the micro shortlist; the tables carry the same tags);
* the mass and micro shortlists, exactly the lists ``influence rank`` prints
  (:func:`influence.shortlist.shortlist` with the same arguments), with every score and the
  components behind them;
* the distribution of followers and of engagement rate by segment, and the share of each
  segment's audience that looks bought (``1 - audience_authenticity``, weighted by audience);
* the run's parameters, the input summary (accounts, rows by kind, pairs per layer, dropped
  rows, signals the input lacks, segment thresholds) and the timings.

The figures are drawn with matplotlib as SVG and inlined, so the page needs no network access
and no script. Large graphs are down-sampled for the map (:func:`sample_points`: seeded,
stratified by segment, every shortlisted account kept); the distributions use every account.

The same graph, scores and seed give the same page byte for byte, apart from the timings: they
sit in one block between ``<!-- timings:start -->`` and ``<!-- timings:end -->``, and
``timings=False`` leaves the block out, which makes the whole page byte-identical between runs.
"""

from __future__ import annotations

import html
import io
import math
import re
import time
from dataclasses import fields

import numpy as np
import polars as pl

from . import __version__
from .engine import Diagnostics
from .errors import ConfigError, InfluenceError
from .graph import Graph
from .segments import SEGMENTS
from .shortlist import shortlist

#: Points drawn on the map at most, besides the shortlisted accounts (which are always drawn).
DEFAULT_MAX_POINTS = 8000
#: Phases of :func:`build_report`, in order (for a progress display).
REPORT_PHASES = ("map", "distributions", "page")
SEGMENT_COLOURS = {"mass": "#d95f02", "micro": "#1b9e77", "suspicious": "#c2185b", "other": "#9e9e9e"}
SHORTLISTS = ("mass", "micro")
#: Tag prefix of each shortlist on the map and in the tables.
TAG_PREFIX = {"mass": "M", "micro": "m"}
#: Columns of the shortlist tables: (column, header, format).
TABLE_COLUMNS = (
    ("rank", "rank", "int"), ("tag", "map", "text"), ("account", "account", "text"), ("id", "id", "text"),
    ("tier", "tier", "text"), ("followers", "followers", "int"), ("reach", "reach", "score"),
    ("credibility", "credibility", "score"), ("peer_influence", "peer influence", "score"),
    ("score", "score", "score"), ("audience", "audience", "int"),
    ("expected_spread", "expected spread", "real"), ("engagement_rate", "engagement rate", "real"),
    ("audience_authenticity", "audience authenticity", "score"),
    ("engagement_authenticity", "engagement authenticity", "score"), ("pod_score", "pod score", "score"),
    ("loyal_share", "loyal share", "score"), ("trust", "trust", "score"), ("community", "community", "text"),
)


def require_matplotlib():
    """Import matplotlib's object-oriented pieces, or say how to install it.

    Raises
    ------
    InfluenceError
        When matplotlib is not installed (it is the ``report`` extra).
    """
    try:
        import matplotlib  # noqa: F401
        from matplotlib.backends.backend_svg import FigureCanvasSVG
        from matplotlib.figure import Figure
    except ImportError:
        raise InfluenceError(
            "the HTML report needs matplotlib, which is not installed; "
            "install it with: python -m pip install '.[report]' (from the influence checkout)"
        ) from None
    return Figure, FigureCanvasSVG


def sample_points(segment: np.ndarray, keep: np.ndarray, max_points: int, seed: int) -> np.ndarray:
    """Indices of the accounts drawn on the map, ascending.

    Every account with ``keep`` set is drawn. Of the others at most ``max_points`` are drawn,
    stratified by segment: each segment first gets ``max_points / (2 * n_segments)`` points (or
    all it has), the rest of the budget is shared in proportion to the segments' sizes. The
    choice within a segment is uniform, from ``numpy.random.default_rng(seed)``, so the same
    input and seed draw the same points.

    Parameters
    ----------
    segment
        Segment name of every account (object or string array).
    keep
        bool[n]: accounts that must be drawn (the shortlisted ones).
    max_points
        How many other accounts at most (>= 0).
    seed
        Seed of the sample.
    """
    if max_points < 0:
        raise ConfigError(f"max_points must be >= 0, got {max_points}")
    segment = np.asarray(segment)
    keep = np.asarray(keep, dtype=bool)
    rest = np.flatnonzero(~keep)
    if rest.size <= max_points:
        return np.arange(segment.shape[0])
    names = sorted(set(segment[rest].tolist()), key=lambda s: (SEGMENTS.index(s) if s in SEGMENTS else 99, s))
    members = {s: rest[segment[rest] == s] for s in names}
    floor = max_points // (2 * max(len(names), 1))
    quota = {s: min(len(members[s]), floor) for s in names}
    left = max_points - sum(quota.values())
    spare = {s: len(members[s]) - quota[s] for s in names}
    total_spare = sum(spare.values())
    if total_spare and left > 0:
        shares = {s: left * spare[s] / total_spare for s in names}
        extra = {s: int(math.floor(shares[s])) for s in names}
        # hand out what flooring left over to the largest remainders (ties in segment order)
        leftover = left - sum(extra.values())
        for s in sorted(names, key=lambda s: -(shares[s] - extra[s]))[:leftover]:
            extra[s] += 1
        for s in names:
            quota[s] += min(extra[s], spare[s])
    rng = np.random.default_rng(seed)
    chosen = [np.flatnonzero(keep)]
    for s in names:
        if quota[s] >= len(members[s]):
            chosen.append(members[s])
        elif quota[s] > 0:
            chosen.append(rng.choice(members[s], quota[s], replace=False))
    return np.sort(np.concatenate(chosen))


def build_report(
    graph: Graph,
    scores: pl.DataFrame,
    diagnostics: Diagnostics | None = None,
    *,
    top: int = 20,
    goal: str = "auto",
    topic: str | None = None,
    seed: int = 0,
    parameters: dict | None = None,
    max_points: int = DEFAULT_MAX_POINTS,
    timings: bool = True,
    progress=None,
) -> str:
    """The HTML page (a str) describing ``scores`` of ``graph``; see the module doc.

    Parameters
    ----------
    graph, scores, diagnostics
        What :func:`influence.load` and :func:`influence.score` returned (``diagnostics``
        filled in by ``score``; None: the input summary leaves out what only it knows).
    top, goal, topic
        The shortlists' arguments, as for ``influence rank``.
    seed
        Seed of the map's down-sampling (the run's seed).
    parameters
        Shown as given in the parameters table (e.g. the command line's options).
    max_points
        Accounts drawn on the map besides the shortlisted ones.
    timings
        Include the timings block (the only part that differs between two identical runs).
    progress
        Called with each of ``REPORT_PHASES`` as it starts.
    """
    Figure, FigureCanvasSVG = require_matplotlib()
    if not isinstance(max_points, int) or isinstance(max_points, bool) or max_points < 0:
        raise ConfigError(f"max_points must be a non-negative integer, got {max_points!r}")
    diag = diagnostics if diagnostics is not None else Diagnostics()
    announce = progress if progress is not None else (lambda phase: None)
    render_timings = diag.timings  # the report's phases are added to the run's

    lists = {seg: _tagged(shortlist(scores, seg, top, goal=goal, topic=topic), seg) for seg in SHORTLISTS}

    announce("map")
    started = time.perf_counter()
    map_svg, map_caption = _map_figure(Figure, FigureCanvasSVG, scores, lists, max_points, seed)
    render_timings["report map"] = time.perf_counter() - started

    announce("distributions")
    started = time.perf_counter()
    summary = segment_summary(scores)
    dist_svg = _distribution_figure(Figure, FigureCanvasSVG, scores, summary)
    render_timings["report distributions"] = time.perf_counter() - started

    announce("page")
    started = time.perf_counter()
    source = graph.report.source
    counts = {row["segment"]: row["accounts"] for row in summary.iter_rows(named=True)}
    headline = (f"{graph.n_nodes:,} accounts: "
                + ", ".join(f"{counts.get(s, 0):,} {s}" for s in SEGMENTS) + ".")
    sections = [
        f"<h1>influence report: {_e(source)}</h1>",
        f'<p class="lead">{_e(headline)}</p>',
        _unavailable_html(diag),
        '<section id="map"><h2>Reach and credibility</h2>',
        f'<div class="figure">{map_svg}</div>',
        f'<p class="caption">{_e(map_caption)}</p></section>',
        '<section id="shortlists"><h2>Shortlists</h2>',
        _goal_note(goal, topic, top),
    ]
    for seg in SHORTLISTS:
        title = f"{seg} influencers (top {top})"
        sections.append(f'<h3>{_e(title)}</h3>')
        sections.append(_shortlist_table(lists[seg], f"{seg}-shortlist"))
    sections.append("</section>")
    sections += [
        '<section id="segments"><h2>Segments</h2>',
        f'<div class="figure">{dist_svg}</div>',
        '<p class="caption">Boxes span the 25th to 75th percentile, whiskers the 5th to 95th, the line '
        'is the median. Engagement rate is interaction events received per follower; accounts with none '
        'are counted under the box. The share that looks bought is one minus audience authenticity (the '
        'mean genuineness of an account\'s followers), weighted by audience size.</p>',
        _summary_table(summary),
        "</section>",
        '<section id="input"><h2>Input</h2>',
        _input_html(graph, diag),
        "</section>",
        '<section id="parameters"><h2>Parameters</h2>',
        _parameters_html(parameters or {}, diag, seed, max_points),
        "</section>",
    ]
    render_timings["report page"] = time.perf_counter() - started
    if timings:
        sections.append(_timings_html(diag.timings))
    return _page(source, "\n".join(s for s in sections if s))


# ------------------------------------------------------------------------------------------------
# data


def _tagged(frame: pl.DataFrame, segment: str) -> pl.DataFrame:
    return frame.with_columns(
        pl.format("{}{}", pl.lit(TAG_PREFIX[segment]), pl.col("rank")).alias("tag"),
        pl.coalesce(pl.col("name"), pl.col("id").cast(pl.String)).alias("account"),
    )


def segment_summary(scores: pl.DataFrame) -> pl.DataFrame:
    """One row per segment (in ``SEGMENTS`` order, empty ones included): accounts, their share,
    median followers, median engagement rate, share without engagement, audience, and the
    audience-weighted share of the audience that looks bought (``1 - audience_authenticity``)."""
    grouped = scores.group_by("segment").agg(
        pl.len().alias("accounts"),
        pl.col("followers").median().alias("median_followers"),
        pl.col("engagement_rate").median().alias("median_engagement_rate"),
        (pl.col("engagement_rate") <= 0).mean().alias("share_without_engagement"),
        pl.col("credibility").median().alias("median_credibility"),
        pl.col("reach").median().alias("median_reach"),
        pl.col("audience").sum().alias("audience"),
        (pl.col("audience") * (1.0 - pl.col("audience_authenticity"))).sum().alias("bought_audience"),
    )
    order = pl.DataFrame({"segment": list(SEGMENTS)})
    out = order.join(grouped, on="segment", how="left", maintain_order="left").with_columns(
        pl.col("accounts").fill_null(0).cast(pl.Int64),
        pl.col("audience").fill_null(0).cast(pl.Int64),
    )
    n = max(int(scores.height), 1)
    return out.with_columns(
        (pl.col("accounts") / n).alias("share_of_accounts"),
        pl.when(pl.col("audience") > 0).then(pl.col("bought_audience") / pl.col("audience"))
        .otherwise(None).alias("bought_share"),
    ).drop("bought_audience")


# ------------------------------------------------------------------------------------------------
# figures


def _svg(fig, FigureCanvasSVG, salt: str) -> str:
    """``fig`` as an inline ``<svg>`` element: no XML prolog, no date, ids unique to this figure."""
    import matplotlib

    FigureCanvasSVG(fig)
    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "none"}):
        fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = buf.getvalue()
    text = text[text.index("<svg") + 4:].strip()
    # matplotlib numbers its ids per figure (figure_1, axes_1, ...): make them unique in the page
    ours = ("points-", "shortlist-", "tag-", "bought-")

    def rename(name: str) -> str:
        return name if name.startswith(ours) else f"{salt}-{name}"

    text = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{rename(m.group(1))}"', text)
    text = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{rename(m.group(1))}"', text)
    text = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{rename(m.group(1))})", text)
    return f'<svg id="{salt}-svg" ' + text  # text starts with the next attribute


def _style():
    return {
        "font.family": "sans-serif",
        "font.sans-serif": ["DejaVu Sans"],  # ships with matplotlib: the same metrics everywhere
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
        "axes.titlesize": 10,
    }


def _map_figure(Figure, FigureCanvasSVG, scores, lists, max_points, seed):
    import matplotlib

    n = scores.height
    segment = scores["segment"].to_numpy()
    ids = scores["id"]
    shortlisted = np.zeros(n, bool)
    position = {}
    for seg in SHORTLISTS:
        if lists[seg].height:
            idx = _positions(ids, lists[seg]["id"])
            shortlisted[idx] = True
            position[seg] = idx
    drawn = sample_points(segment, shortlisted, max_points, seed)
    reach = scores["reach"].to_numpy()
    cred = scores["credibility"].to_numpy()
    counts = {s: int(np.count_nonzero(segment == s)) for s in SEGMENTS}

    with matplotlib.rc_context(_style()):
        # fixed margins rather than a layout engine: measuring every tick label for a layout
        # took most of the report's time
        fig = Figure(figsize=(9.0, 6.2), dpi=72)
        fig.subplots_adjust(left=0.075, right=0.985, bottom=0.085, top=0.98)
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        plain = drawn[~shortlisted[drawn]]
        for seg in ("other", "micro", "mass", "suspicious"):
            pts = plain[segment[plain] == seg]
            label = f"{seg} ({counts[seg]:,})"
            if seg == "suspicious":
                coll = ax.scatter(reach[pts], cred[pts], s=14, marker="x", linewidths=0.9,
                                  c=SEGMENT_COLOURS[seg], label=label, zorder=3)
            else:
                coll = ax.scatter(reach[pts], cred[pts], s=7 if seg == "other" else 10, marker="o",
                                  linewidths=0, c=SEGMENT_COLOURS[seg], alpha=0.55 if seg == "other" else 0.8,
                                  label=label, zorder=2 if seg == "other" else 3)
            coll.set_gid(f"points-{seg}")
        for seg in SHORTLISTS:
            if seg not in position:
                continue
            idx = position[seg]
            coll = ax.scatter(reach[idx], cred[idx], s=46, marker="o", c=SEGMENT_COLOURS[seg],
                              edgecolors="black", linewidths=0.9, zorder=5,
                              label=f"{seg} shortlist (tags {TAG_PREFIX[seg]}1..)")
            coll.set_gid(f"shortlist-{seg}")
        ax.set_xlim(-0.02, 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("reach (audience + expected independent-cascade spread, log-scaled to 0-1)")
        ax.set_ylabel("credibility (genuine, engaged audience, 0-1)")
        ax.grid(True, color="#e6e6e6", linewidth=0.6, zorder=0)
        ax.set_axisbelow(True)
        # tags: try offsets around the point, nearest first, and keep the first whose box hits
        # neither another tag nor a shortlisted point; a tag moved away gets a leader line
        to_pixels = ax.transData.transform  # pixels are points: the figure is at 72 dpi
        points = [tuple(to_pixels((reach[i], cred[i]))) for seg in position for i in position[seg]]
        obstacles = [(x - 4, y - 4, x + 4, y + 4) for x, y in points]
        directions = [(1, 0.3), (1, -1), (-1, 0.3), (-1, -1), (0, 1), (0, -1.6), (1, 1), (-1, 1)]
        candidates = [(r * dx, r * dy) for r in (6, 14, 24, 36) for dx, dy in directions]
        for seg in SHORTLISTS:
            if seg not in position:
                continue
            frame = lists[seg]
            for k, i in enumerate(position[seg]):
                tag = frame["tag"][k]
                px, py = to_pixels((reach[i], cred[i]))
                width, height = 5.0 * len(tag) + 2, 9.0
                chosen = candidates[0]
                for dx, dy in candidates:
                    x0 = px + dx if dx >= 0 else px + dx - width
                    box = (x0, py + dy - height / 2, x0 + width, py + dy + height / 2)
                    if not any(_overlap(box, b) for b in obstacles):
                        chosen = (dx, dy)
                        break
                dx, dy = chosen
                x0 = px + dx if dx >= 0 else px + dx - width
                obstacles.append((x0, py + dy - height / 2, x0 + width, py + dy + height / 2))
                far = abs(dx) > 6 or abs(dy) > 10
                ax.annotate(tag, (reach[i], cred[i]), xytext=(dx, dy), textcoords="offset points",
                            ha="left" if dx >= 0 else "right", va="center", fontsize=7.5, color="#222222",
                            zorder=6, gid=f"tag-{tag}",
                            arrowprops={"arrowstyle": "-", "linewidth": 0.4, "color": "#666666",
                                        "shrinkA": 0, "shrinkB": 3} if far else None)
        ax.legend(loc="lower right", fontsize=8, frameon=True, framealpha=0.9, markerscale=1.2)
        svg = _svg(fig, FigureCanvasSVG, "map")
    n_drawn = int(drawn.size)
    if n_drawn < n:
        caption = (f"{n_drawn:,} of {n:,} accounts drawn: a random sample stratified by segment (seed {seed}), "
                   f"so rare segments are over-represented (the legend gives each segment's true count); "
                   f"every shortlisted account is drawn and tagged.")
    else:
        caption = f"All {n:,} accounts drawn; shortlisted accounts are ringed and tagged."
    caption += " Suspicious accounts are crosses. Hover a shortlisted point for its name."
    svg = _point_titles(svg, lists)
    return svg, caption


def _point_titles(svg: str, lists) -> str:
    """Give each shortlisted point a ``<title>`` (the browser shows it on hover)."""
    for seg in SHORTLISTS:
        frame = lists[seg]
        if not frame.height:
            continue
        match = re.search(rf'<g id="shortlist-{seg}">(.*?)</g>', svg, flags=re.S)
        if not match:
            continue
        body = match.group(1)
        uses = list(re.finditer(r"<use [^>]*?/>", body))
        if len(uses) != frame.height:
            continue
        pieces, last = [], 0
        for use, tag, account, score in zip(uses, frame["tag"], frame["account"], frame["score"]):
            pieces.append(body[last:use.start()])
            title = f"{tag} {account}: score {score:.3f}"
            pieces.append(use.group(0)[:-2] + f"><title>{_e(title)}</title></use>")
            last = use.end()
        pieces.append(body[last:])
        svg = svg[: match.start(1)] + "".join(pieces) + svg[match.end(1):]
    return svg


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _positions(ids: pl.Series, wanted: pl.Series) -> np.ndarray:
    """Row positions in ``ids`` of the values ``wanted`` (all present), in ``wanted``'s order."""
    lookup = pl.DataFrame({"id": ids}).with_row_index("pos")
    found = pl.DataFrame({"id": wanted}).join(lookup, on="id", how="left", maintain_order="left")
    return found["pos"].to_numpy().astype(np.int64)


def _distribution_figure(Figure, FigureCanvasSVG, scores, summary):
    import matplotlib

    segment = scores["segment"]
    present = [s for s in SEGMENTS if (segment == s).any()]
    with matplotlib.rc_context(_style()):
        fig = Figure(figsize=(10.5, 3.6), dpi=72)
        fig.subplots_adjust(left=0.05, right=0.99, bottom=0.16, top=0.91, wspace=0.22)
        ax_f, ax_e, ax_b = fig.subplots(1, 3)
        colours = [SEGMENT_COLOURS[s] for s in present]

        followers = [scores.filter(segment == s)["followers"].to_numpy().astype(np.float64) + 1.0 for s in present]
        _boxes(ax_f, followers, present, colours)
        ax_f.set_yscale("log")
        ax_f.set_title("followers + 1")

        rates, none = [], []
        for s in present:
            r = scores.filter(segment == s)["engagement_rate"].to_numpy()
            positive = r[r > 0]
            rates.append(positive if positive.size else np.array([np.nan]))
            none.append(1.0 - positive.size / max(r.size, 1))
        _boxes(ax_e, rates, present, colours)
        ax_e.set_yscale("log")
        ax_e.set_title("engagement rate (events per follower)")
        ax_e.set_xticks(range(1, len(present) + 1),
                        [f"{s}\n{p:.0%} none" for s, p in zip(present, none)])

        shares = [summary.filter(pl.col("segment") == s)["bought_share"][0] for s in present]
        heights = [0.0 if v is None else float(v) for v in shares]
        bars = ax_b.bar(range(1, len(present) + 1), heights, color=colours, width=0.6)
        for patch, s in zip(bars.patches, present):
            patch.set_gid(f"bought-{s}")
        for x, h in zip(range(1, len(present) + 1), heights):
            ax_b.annotate(f"{h:.0%}", (x, h), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)
        ax_b.set_xticks(range(1, len(present) + 1), present)
        ax_b.set_ylim(0, max([0.05] + heights) * 1.2)
        ax_b.yaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0, decimals=0))
        ax_b.set_title("share of audience that looks bought")
        for ax in (ax_f, ax_e, ax_b):
            ax.grid(True, axis="y", color="#e6e6e6", linewidth=0.6)
            ax.set_axisbelow(True)
        return _svg(fig, FigureCanvasSVG, "dist")


def _boxes(ax, data, labels, colours):
    finite = [d[np.isfinite(d)] if np.isfinite(d).any() else np.array([1.0]) for d in data]
    parts = ax.boxplot(finite, whis=(5, 95), showfliers=False, patch_artist=True, widths=0.55,
                       medianprops={"color": "black", "linewidth": 1.2})
    for patch, colour in zip(parts["boxes"], colours):
        patch.set_facecolor(colour)
        patch.set_alpha(0.75)
    ax.set_xticks(range(1, len(labels) + 1), labels)


# ------------------------------------------------------------------------------------------------
# HTML


def _e(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt(value, kind: str) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    if kind == "int":
        return f"{int(value):,}"
    if kind == "score":
        return f"{float(value):.3f}"
    if kind == "real":
        v = float(value)
        return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.3g}"
    if kind == "pct":
        return f"{float(value):.1%}"
    return str(value)


def _shortlist_table(frame: pl.DataFrame, table_id: str) -> str:
    columns = [(c, h, k) for c, h, k in TABLE_COLUMNS if c in frame.columns]
    if frame["name"].null_count() == frame.height:  # no names: the account is its id
        columns = [col for col in columns if col[0] != "account"]
    head = "".join(f'<th class="{"num" if k in ("int", "score", "real") else "txt"}">{_e(h)}</th>'
                   for _, h, k in columns)
    rows = []
    for row in frame.iter_rows(named=True):
        cells = []
        for c, _, k in columns:
            cls = "num" if k in ("int", "score", "real") else "txt"
            cells.append(f'<td class="{cls}">{_e(_fmt(row[c], k))}</td>')
        rows.append("<tr>" + "".join(cells) + "</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(columns)}">no account qualifies</td></tr>')
    return (f'<div class="table"><table id="{table_id}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _summary_table(summary: pl.DataFrame) -> str:
    columns = (("segment", "segment", "text"), ("accounts", "accounts", "int"),
               ("share_of_accounts", "share of accounts", "pct"), ("median_followers", "median followers", "real"),
               ("median_engagement_rate", "median engagement rate", "real"),
               ("share_without_engagement", "without engagement", "pct"),
               ("median_reach", "median reach", "score"), ("median_credibility", "median credibility", "score"),
               ("audience", "audience (sum)", "int"), ("bought_share", "audience that looks bought", "pct"))
    head = "".join(f'<th class="{"txt" if k == "text" else "num"}">{_e(h)}</th>' for _, h, k in columns)
    rows = []
    for row in summary.iter_rows(named=True):
        cells = "".join(f'<td class="{"txt" if k == "text" else "num"}">{_e(_fmt(row[c], k))}</td>'
                        for c, _, k in columns)
        rows.append(f"<tr>{cells}</tr>")
    return (f'<div class="table"><table id="segment-summary"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div>')


def _pairs_table(pairs, table_id: str) -> str:
    rows = "".join(f'<tr><th class="txt">{_e(k)}</th><td class="txt">{_e(v)}</td></tr>' for k, v in pairs)
    return f'<div class="table"><table class="pairs" id="{table_id}"><tbody>{rows}</tbody></table></div>'


def _unavailable_html(diag: Diagnostics) -> str:
    if not diag.unavailable:
        return ""
    items = "".join(f"<li>{_e(m)}</li>" for m in diag.unavailable)
    return f'<div class="note" id="unavailable"><strong>Signals this input lacks:</strong><ul>{items}</ul></div>'


def _goal_note(goal: str, topic, top: int) -> str:
    text = (f"The lists influence rank prints with --top {top} --goal {goal}"
            + (f" --topic {topic}" if topic is not None else "")
            + ": mass ranked for awareness and micro for engagement when the goal is auto. "
              "The map column is each account's tag on the map.")
    return f'<p class="caption">{_e(text)}</p>'


def _input_html(graph: Graph, diag: Diagnostics) -> str:
    report = graph.report
    layers = ("follow", "interaction", "reshare", "negative")
    pairs = [
        ("source", report.source),
        ("accounts", f"{graph.n_nodes:,}"),
        ("edge rows read", f"{report.n_rows:,}"),
        ("rows by kind", ", ".join(f"{k} {v:,}" for k, v in report.rows_by_kind.items()) or "none"),
        ("distinct pairs per layer", ", ".join(f"{name} {graph.layers[name].n_edges:,}" for name in layers)),
        ("dropped rows", f"{report.n_self_loops:,} self-loop(s), {report.n_zero_weight:,} of weight 0"),
        ("unknown kinds (counted as interactions)", ", ".join(report.unknown_kinds) or "none"),
        ("node table", "none" if graph.nodes is None else
         "columns " + ", ".join(c for c in graph.nodes.columns if c != "id")),
        ("signals the input lacks", "; ".join(diag.unavailable) or "none"),
    ]
    return _pairs_table(pairs, "input-summary")


def _parameters_html(parameters: dict, diag: Diagnostics, seed: int, max_points: int) -> str:
    pairs = [(k, "–" if v is None else v) for k, v in parameters.items()]
    pairs += [
        ("map points (besides the shortlists)", f"{max_points:,}"),
        ("map sample seed", seed),
        ("tiers applied", diag.tier_mode or "–"),
        ("PageRank iterations, residual", f"{diag.pagerank_iterations}, {diag.pagerank_residual:.2e}"),
        ("communities", "from the topic column" if diag.communities_from_topic
         else f"Louvain, {diag.community_sweeps} sweep(s)"),
        ("influence version", __version__),
    ]
    thresholds = diag.segment_thresholds
    if thresholds is not None:
        for f in fields(thresholds):
            value = getattr(thresholds, f.name)
            text = "–" if value is None else f"{value:.4g}" if isinstance(value, float) else str(value)
            pairs.append((f"segment threshold: {f.name}", text))
    return _pairs_table(pairs, "parameters-table")


def _timings_html(timings: dict) -> str:
    total = sum(timings.values())
    pairs = [(name, f"{seconds:.2f} s") for name, seconds in timings.items()] + [("total", f"{total:.2f} s")]
    return ("<!-- timings:start -->\n"
            '<section id="timings"><h2>Timings</h2>' + _pairs_table(pairs, "timings-table") + "</section>\n"
            "<!-- timings:end -->")


_CSS = """
body{font-family:-apple-system,"Segoe UI",Helvetica,Arial,sans-serif;color:#222;margin:0 auto;
max-width:1100px;padding:16px 24px;line-height:1.4}
h1{font-size:1.35em;margin:0.2em 0}h2{font-size:1.15em;border-bottom:1px solid #ddd;padding-bottom:3px;
margin-top:1.6em}h3{font-size:1em;margin:1.2em 0 0.4em}
.lead{font-size:1.05em}.caption{color:#555;font-size:0.9em}
.note{background:#fff8e1;border:1px solid #f0d78c;padding:6px 12px;margin:10px 0;font-size:0.92em}
.note ul{margin:4px 0 0 0;padding-left:20px}
.figure svg{max-width:100%;height:auto}
.table{overflow-x:auto}
table{border-collapse:collapse;font-size:0.85em;margin:4px 0}
th,td{padding:3px 8px;border-bottom:1px solid #eee;white-space:nowrap}
thead th{border-bottom:2px solid #ccc;background:#fafafa;position:sticky;top:0}
.num{text-align:right;font-variant-numeric:tabular-nums}.txt{text-align:left}
table.pairs th{font-weight:normal;color:#555}
"""


def _page(source: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>influence report: {_e(source)}</title>\n"
        f"<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
