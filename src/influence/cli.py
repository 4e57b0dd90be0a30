"""Command line: ``influence rank | report | plan | overlap | explain | generate``.

The commands only translate options into keyword arguments of the library, turn
:class:`~influence.errors.InfluenceError` into one ``Error: ...`` line with exit code 1, and send
warnings and timings to stderr. stdout carries only data.
"""

from __future__ import annotations

import json
import signal
import sys
import textwrap
import time
import warnings
from contextlib import ExitStack, contextmanager

import click
import polars as pl

from . import __version__
from .config import GOALS, TIER_PRESETS, ScoringConfig
from .engine import SCORE_PHASES, Diagnostics, load, load_on, score
from .errors import InfluenceError, MissingSignalWarning
from .io.write import FORMATS, check_output_path, emit, format_table, render
from .segments import SEGMENTS
from .shortlist import SHORTLIST_COLUMNS, shortlist
from .explain import explain as explain_account
from .overlap import overlap as audience_overlap
from .planning import PLAN_GOALS
from .planning import plan as plan_campaign
from .progress import Progress
from .report import DEFAULT_MAX_POINTS, REPORT_PHASES, build_report, require_matplotlib
from .synthetic import VARIANTS, WorldConfig, generate_world

#: Width of the terminal tables, footers included.
TABLE_WIDTH = 80
#: Seconds between two redraws of the progress display by its background thread.
PROGRESS_TICK = 0.5
#: Phases of rank as the progress display counts them.
_RANK_PHASES = SCORE_PHASES + ("shortlists",)


def _warn_to_stderr(message, category, filename, lineno, file=None, line=None):
    if Progress.active is not None and Progress.active.stream is sys.stderr:
        Progress.active.write_above(f"Warning: {message}")  # on a clean line, not after the bar
    else:
        click.echo(f"Warning: {message}", err=True)


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled like Ctrl-C: the stack unwinds (temporary files are removed)."""


def _raise_terminated(signum, frame):
    raise _Terminated()


@contextmanager
def _on_sigterm_unwind():
    """While active (in the main thread), SIGTERM raises :class:`_Terminated` instead of
    killing the process on the spot."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def _user_errors(quiet: bool):
    """Report library errors as one line and exit 1; warnings as ``Warning:`` lines; Ctrl-C
    and SIGTERM as one line and exit 130 / 143, after temporary files are removed."""
    with warnings.catch_warnings(), _on_sigterm_unwind():
        if quiet:
            warnings.simplefilter("ignore")
        else:
            warnings.simplefilter("always")
            warnings.showwarning = _warn_to_stderr
        try:
            yield
        except InfluenceError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt as exc:
            terminated = isinstance(exc, _Terminated)
            click.echo(f"Error: {'terminated (SIGTERM)' if terminated else 'interrupted'}; "
                       "no output was written", err=True)
            sys.exit(128 + (signal.SIGTERM if terminated else signal.SIGINT))
        except MemoryError:
            click.echo("Error: out of memory; the graph is too large for this machine", err=True)
            sys.exit(1)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="influence")
def main():
    """Rank the accounts of a social graph; separate mass influencers from micro-influencers.

    Edges go src -> dst when src pays attention to dst (follows, likes, shares, replies to,
    mentions it). Run `influence COMMAND --help` for each command.
    """


def _input_options(fn):
    fn = click.option("--max-memory", default=None,
                      help="Stop with an error when the run would need more than this (e.g. 8G); "
                           "default: the memory the machine has available. With --backend dask "
                           "(rank, report): the stage worker's need (it holds the whole graph); "
                           "default: that worker's memory limit.")(fn)
    fn = click.option("--dst-col", default="dst", show_default=True, help="Column holding the account attended to.")(fn)
    fn = click.option("--src-col", default="src", show_default=True, help="Column holding the account paying attention.")(fn)
    fn = click.option("--nodes", "nodes", type=click.Path(dir_okay=False), default=None,
                      help="Node table (Parquet/CSV) with id, name, followers, topic, cost, "
                           "sponsored_share, verified. Default: nodes.parquet beside edges.parquet.")(fn)
    return fn


def _scoring_options(fn):
    """Options of every command that scores the whole graph and shortlists it (rank, report)."""
    fn = click.option("--workers", type=int, default=None,
                      help="With --backend dask: start a local cluster of N worker processes for this run "
                           "(default without --cluster: one per CPU).")(fn)
    fn = click.option("--cluster", default=None, metavar="ADDRESS",
                      help="With --backend dask: address of a running scheduler, e.g. tcp://scheduler:8786.")(fn)
    fn = click.option("--backend", default="local", show_default=True,
                      help="Where to run: local (this process) or dask (a Dask cluster; PATH must be Parquet). "
                           "Same output either way. See docs/distributed.md.")(fn)
    fn = click.option("--quiet", "-q", is_flag=True,
                      help="No warnings, progress display or timings on stderr.")(fn)
    fn = click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True,
                      help="Seed of every randomised step.")(fn)
    fn = click.option("--tier-mode", type=click.Choice(["auto", "absolute", "relative"]), default="auto",
                      show_default=True,
                      help="absolute: thresholds on follower counts; relative: on their quantiles (for sampled "
                           "or synthetic graphs); auto: absolute when the node table reports platform-size "
                           "follower counts.")(fn)
    fn = click.option("--tiers", type=click.Choice(list(TIER_PRESETS)), default="default", show_default=True,
                      help="Follower-count tier preset.")(fn)
    fn = click.option("--topic", default=None, help="Only accounts of this topic (or detected community).")(fn)
    fn = click.option("--goal", type=click.Choice(GOALS), default="auto", show_default=True,
                      help="How score weighs reach, credibility and peer influence (auto: mass for "
                           "awareness, micro for engagement, others balanced).")(fn)
    fn = click.option("--top", type=click.IntRange(min=0), default=20, show_default=True,
                      help="Rows per shortlist.")(fn)
    return fn


def _score_input(path, nodes, src_col, dst_col, max_memory, *, goal, seed, tiers, tier_mode, progress,
                 backend, cluster, workers, resources):
    """Load and score PATH as rank and report do: ``(graph, scores, diagnostics)``. With a
    backend other than local, the cluster stays open until ``resources`` (an ExitStack) closes."""
    config = ScoringConfig(goal=goal, seed=seed, tiers=tiers, tier_mode=tier_mode)
    diag = Diagnostics()
    progress("load")
    started = time.perf_counter()
    if backend == "local" and cluster is None and workers is None:
        graph = load(path, nodes, src_col=src_col, dst_col=dst_col, config=config, max_memory=max_memory)
    else:  # --max-memory then bounds the stage worker, which holds the whole graph
        graph = resources.enter_context(load_on(backend, path, nodes, cluster=cluster, workers=workers,
                                                src_col=src_col, dst_col=dst_col, config=config,
                                                max_memory=max_memory))
    diag.timings["load"] = time.perf_counter() - started
    scores = score(graph, config, diagnostics=diag, progress=progress)
    return graph, scores, diag


def _summary_line(graph, diag, started) -> str:
    total = time.perf_counter() - started
    phases = ", ".join(f"{k} {v:.2f}" for k, v in diag.timings.items())
    where = "" if diag.backend == "local" else f"backend {diag.backend}; "
    return (f"influence: {graph.n_nodes:,} accounts, {graph.report.n_rows:,} edge rows, "
            f"{diag.tier_mode} tiers; {_spread_note(diag.spread)}; {where}{total:.2f} s ({phases})")


def _table_view(frame: pl.DataFrame) -> pl.DataFrame:
    account = pl.coalesce(pl.col("name"), pl.col("id").cast(pl.String)).alias("account")
    return frame.select(
        pl.col("rank"), account, pl.col("segment"), pl.col("tier"), pl.col("followers"), pl.col("reach"),
        pl.col("credibility").alias("cred"), pl.col("peer_influence").alias("peer"), pl.col("score"),
    )


def _lacking_footer(unavailable) -> str:
    """The signals the input lacks, as lines of at most ``TABLE_WIDTH`` columns ('' if none)."""
    if not unavailable:
        return ""
    lines = ["signals this input lacks:"]
    for message in unavailable:
        lines += textwrap.wrap(message, TABLE_WIDTH, initial_indent="- ", subsequent_indent="  ")
    return "\n" + "\n".join(lines) + "\n"


@main.command()
@click.argument("path", type=click.Path())
@_input_options
@click.option("--segment", type=click.Choice([*SEGMENTS, "all"]), default=None,
              help="One shortlist of this segment ('all': every account). Default: mass and micro.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table: aligned text for a terminal (80 columns), ending with the signals the "
                   "input lacks; csv/json/parquet: every column, the lacking signals as warnings.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None,
              help="Write here (atomically) instead of stdout.")
@_scoring_options
def rank(path, nodes, src_col, dst_col, max_memory, segment, top, goal, topic, tiers, tier_mode, fmt, output, seed, quiet,
         backend, cluster, workers):
    """Rank the accounts of the graph at PATH and print shortlists.

    PATH is a Parquet, CSV/TSV or plain edge-list file, or a directory with edges.parquet
    (and nodes.parquet). With --backend dask: a Parquet file (its row groups are read by the
    workers), a directory with edges.parquet, or a directory of .parquet part files.
    """
    with _user_errors(quiet), ExitStack() as resources, Progress(_RANK_PHASES, enabled=False if quiet else None,
                                                                 tick=PROGRESS_TICK) as progress:
        started = time.perf_counter()
        if fmt == "table":  # the table's footer says it instead
            warnings.filterwarnings("ignore", category=MissingSignalWarning)
        graph, scores, diag = _score_input(path, nodes, src_col, dst_col, max_memory, goal=goal, seed=seed,
                                           tiers=tiers, tier_mode=tier_mode, progress=progress, backend=backend,
                                           cluster=cluster, workers=workers, resources=resources)
        progress("shortlists")
        segments = [segment] if segment else ["mass", "micro"]
        lists = [shortlist(scores, seg, top, goal=goal, topic=topic) for seg in segments]
        if fmt == "table":
            parts = []
            for seg, frame in zip(segments, lists):
                title = "all accounts" if seg == "all" else f"{seg} influencers" if seg in ("mass", "micro") else f"{seg} accounts"
                parts.append(format_table(_table_view(frame), title=f"{title} (top {top})", max_width=TABLE_WIDTH))
            data = ("\n".join(parts) + _lacking_footer(diag.unavailable)).encode()
        else:
            frame = pl.concat(lists, how="vertical")
            columns = list(SHORTLIST_COLUMNS) + [c for c in frame.columns if c not in SHORTLIST_COLUMNS]
            data = render(frame.select(columns), fmt)
        progress.close()
        emit(data, output)
        if not quiet:
            click.echo(_summary_line(graph, diag, started), err=True)


@main.command()
@click.argument("path", type=click.Path())
@_input_options
@click.option("--output", "-o", type=click.Path(dir_okay=False), required=True,
              help="The HTML file to write (atomically).")
@click.option("--max-points", type=click.IntRange(min=0), default=DEFAULT_MAX_POINTS, show_default=True,
              help="Accounts drawn on the map besides the shortlisted ones (a seeded sample "
                   "stratified by segment when the graph has more).")
@click.option("--timings/--no-timings", default=True, show_default=True,
              help="Include the timings section (leave it out for a page that is byte-identical "
                   "between runs).")
@_scoring_options
def report(path, nodes, src_col, dst_col, max_memory, output, max_points, timings, top, goal, topic, tiers,
           tier_mode, seed, quiet, backend, cluster, workers):
    """Write a self-contained HTML report of the graph at PATH to --output.

    A reach-versus-credibility map coloured by segment (shortlisted accounts tagged, suspicious
    ones marked), the mass and micro shortlists of `influence rank` with their components, the
    followers and engagement of each segment and the share of audiences that looks bought, and
    the run's parameters, input summary and timings. The page needs no network to open.
    """
    with _user_errors(quiet), ExitStack() as resources, Progress(_RANK_PHASES + REPORT_PHASES + ("write",),
                                       enabled=False if quiet else None, tick=PROGRESS_TICK) as progress:
        started = time.perf_counter()
        require_matplotlib()  # both before the heavy work
        check_output_path(output)
        graph, scores, diag = _score_input(path, nodes, src_col, dst_col, max_memory, goal=goal, seed=seed,
                                           tiers=tiers, tier_mode=tier_mode, progress=progress, backend=backend,
                                           cluster=cluster, workers=workers, resources=resources)
        progress("shortlists")
        parameters = {
            "input": path, "node table": nodes, "src column": src_col, "dst column": dst_col, "top": top,
            "goal": goal, "topic": topic, "tiers": tiers, "tier mode": tier_mode, "seed": seed,
        }
        page = build_report(graph, scores, diag, top=top, goal=goal, topic=topic, seed=seed,
                            parameters=parameters, max_points=max_points, timings=timings, progress=progress)
        progress("write")
        emit(page.encode(), output)
        progress.close()
        if not quiet:
            click.echo(_summary_line(graph, diag, started) + f"; wrote {output} ({len(page) / 1e6:.2f} MB)",
                       err=True)


def _spread_note(spread) -> str:
    """The sampling behind ``expected_spread`` and its error bound, in a few words."""
    if spread is None or spread.samples == 0:
        return "spread exact (nothing beyond the first hop)"
    return (f"spread from {spread.samples:,} RR sets, within {spread.target_epsilon:.0%} at audience "
            f">= {spread.target:,.0f} with probability {1 - spread.delta:.0%}")


@main.command()
@click.argument("path", type=click.Path())
@click.argument("ids", nargs=-1, required=True)
@_input_options
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table/json: accounts, pairs and total; csv/parquet: the pairs.")
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None)
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True,
              help="Seed of the sketch hashes (large audiences only).")
@click.option("--quiet", "-q", is_flag=True, help="No warnings on stderr.")
def overlap(path, ids, nodes, src_col, dst_col, max_memory, fmt, output, seed, quiet):
    """Audience overlap of the accounts IDS in the graph at PATH.

    Pairwise shared audience, Jaccard and share of the smaller audience, and the unique audience
    of the whole list; exact for small audiences, sketched (KMV) for large ones.
    """
    with _user_errors(quiet):
        graph = load(path, nodes, src_col=src_col, dst_col=dst_col, max_memory=max_memory)
        result = audience_overlap(graph, ids, seed=seed)
        if fmt == "table":
            total = "exact" if result.unique_audience_exact else "estimated"
            data = (
                format_table(result.accounts, title="audiences")
                + "\n"
                + format_table(result.pairs, title="pairwise overlap")
                + f"\nunique audience of the {result.accounts.height} accounts: "
                + f"{result.unique_audience:,.0f} ({total})\n"
            ).encode()
        elif fmt == "json":
            data = (json.dumps(result.to_dict(), ensure_ascii=False, indent=1) + "\n").encode()
        else:
            data = render(result.pairs, fmt)
        emit(data, output)


@main.command()
@click.argument("path", type=click.Path())
@_input_options
@click.option("--budget", type=float, required=True, help="Total spend, in the unit of the node table's cost.")
@click.option("--goal", type=click.Choice(PLAN_GOALS), default="engagement", show_default=True,
              help="awareness: unique genuine reach; engagement: weighted by the creator's credibility; "
                   "conversion: by credibility x peer influence.")
@click.option("--topic", default=None, help="Only creators of this topic (or detected community).")
@click.option("--mix", default=None, help="At most so many per segment, e.g. 'mass=2,micro=20'.")
@click.option("--exclude-suspicious/--include-suspicious", default=True, show_default=True)
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--output", "-o", type=click.Path(dir_okay=False), default=None)
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No warnings or summary on stderr.")
def plan(path, nodes, src_col, dst_col, max_memory, budget, goal, topic, mix, exclude_suspicious, fmt, output, seed, quiet):
    """Choose creators within --budget that reach the most credible people without paying twice
    for the same audience (lazy greedy on a submodular coverage objective)."""
    phases = ("load",) + SCORE_PHASES[1:] + ("plan by gain per cost", "plan by gain")
    with _user_errors(quiet), Progress(phases, enabled=False if quiet else None, tick=PROGRESS_TICK) as progress:
        progress("load")
        graph = load(path, nodes, src_col=src_col, dst_col=dst_col, max_memory=max_memory)
        picks = plan_campaign(graph, budget, goal=goal, topic=topic, mix=mix,
                              exclude_suspicious=exclude_suspicious, config=ScoringConfig(seed=seed),
                              progress=progress)
        progress.close()
        if fmt == "table":
            view = picks.select(
                "pick",
                pl.coalesce(pl.col("name"), pl.col("id").cast(pl.String)).alias("account"),
                pl.col("segment").str.slice(0, 5).alias("seg"),
                "cost", pl.col("marginal_reach").alias("gain"),
                pl.col("cumulative_reach").alias("total"), pl.col("cumulative_cost").alias("spent"),
            )
            spent = float(picks["cumulative_cost"][-1]) if picks.height else 0.0
            reach = float(picks["cumulative_reach"][-1]) if picks.height else 0.0
            data = (format_table(view, title=f"plan ({goal}, budget {budget:,.2f})", float_digits=1)
                    + f"\n{picks.height} creators, {reach:,.1f} {goal} reach, {spent:,.2f} of {budget:,.2f} spent\n").encode()
        else:
            data = render(picks, fmt)
        emit(data, output)
        if not quiet and picks.height and picks["cost_estimated"].any():
            click.echo("Warning: no cost in the node table for some picks; estimated from followers "
                       "(see influence.planning)", err=True)


@main.command()
@click.argument("path", type=click.Path())
@click.argument("account")
@_input_options
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="No warnings on stderr.")
def explain(path, account, nodes, src_col, dst_col, max_memory, fmt, seed, quiet):
    """Every score of ACCOUNT broken into its components, and why it is in its segment."""
    with _user_errors(quiet):
        graph = load(path, nodes, src_col=src_col, dst_col=dst_col, max_memory=max_memory)
        result = explain_account(graph, account, seed=seed)
        if fmt == "json":
            data = json.dumps(result, ensure_ascii=False, indent=1) + "\n"
        else:
            lines = [result["summary"], ""]
            for group, components in result["components"].items():
                lines.append(f"{group}:")
                for name, entry in components.items():
                    value = entry["value"]
                    text = f"{value:.4g}" if isinstance(value, float) else str(value)
                    pct = "" if entry["percentile"] is None else f"  (higher than {entry['percentile']:.0%})"
                    lines.append(f"  {name:<24} {text}{pct}")
            data = "\n".join(lines) + "\n"
        emit(data.encode(), None)


@main.command()
@click.option("--nodes", "n_nodes", type=int, required=True, help="Number of accounts (>= 1000).")
@click.option("--seed", type=click.IntRange(min=0, max=2**63 - 1), default=0, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Directory for edges.parquet, nodes.parquet and truth.parquet.")
@click.option("--variant", type=click.Choice(sorted(VARIANTS)), default="default", show_default=True,
              help="World variant (follows only, string ids, random 64-bit ids, no node table).")
@click.option("--communities", "n_communities", type=int, default=None,
              help="Number of communities (topics). Default: max(8, nodes / 2000).")
@click.option("--quiet", "-q", is_flag=True, help="No summary on stderr.")
def generate(n_nodes, seed, out_dir, variant, n_communities, quiet):
    """Write a synthetic social world with planted roles to --out.

    Roles (truth.parquet): mass, micro, fake, bot, pod, regular. See docs/synthetic.md.
    """
    with _user_errors(quiet):
        config = WorldConfig(n_nodes=n_nodes, seed=seed, variant=variant, n_communities=n_communities)
        summary = generate_world(config, out_dir)
        if not quiet:
            click.echo(
                f"influence: wrote {summary['n_nodes']:,} accounts and {summary['n_edges']:,} edge rows "
                f"to {out_dir} in {summary['seconds']:.2f} s",
                err=True,
            )


if __name__ == "__main__":  # pragma: no cover
    main()
