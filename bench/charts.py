"""Draw the throughput and latency charts of a bench/run.py results file with matplotlib.

Usage: python bench/charts.py RESULTS_FILE OUTPUT_DIR
Writes OUTPUT_DIR/bench-throughput.png and OUTPUT_DIR/bench-latency.png, one
panel per world and backend. bench/run.py runs this with the Python of the
Datasette venv, where matplotlib is installed, so aios-records' own
environment does not need matplotlib.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

TARGETS = (("aios-records", "aios-records", "#1f77b4"),
           ("datasette", "Datasette", "#ff7f0e"),
           ("floor", "floor (same stack, fixed body)", "#7f7f7f"))
SHORT_LABELS = {
    "get_by_uuid": "GET by uuid",
    "list_model_date": "modelUuid +\ncreateDate>",
    "deep_paging": "deep paging",
    "count_indexed": "count, indexed\ncondition",
    "count_all": "count, no\ncondition",
    "cross_table": "cross-table",
    "reply_with_count": "replyWithCount,\nlimit=1000",
}
BAR_WIDTH = 0.26


def _title(run: dict) -> str:
    backend = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[run["backend"]]
    return f"{run['records']:,} records, {backend}"


def _load_scenarios(run: dict) -> list[tuple[str, dict]]:
    return [(name, entry) for name, entry in run["scenarios"].items() if not entry.get("large")]


def _value(entry: dict, target: str, key: str) -> float | None:
    result = entry["targets"].get(target, {})
    return None if "skipped" in result else result.get(key)


def _panels(runs: list[dict], height: float):
    figure, axes = plt.subplots(len(runs), 1, figsize=(11, height * len(runs)), squeeze=False)
    return figure, [row[0] for row in axes]


def _legend_and_title(figure, first_axis, title: str) -> None:
    """Put the title and one legend for every panel above the panels."""
    handles, labels = first_axis.get_legend_handles_labels()
    figure.suptitle(title, fontsize=11)
    figure.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, 0.965),
                  ncol=3 if len(labels) == 3 else 2,
                  fontsize=8, frameon=False)
    figure.tight_layout(rect=(0, 0, 1, 0.9 if len(figure.axes) == 1 else 0.94))


def throughput_chart(results: dict, path: Path) -> None:
    runs = results["runs"]
    figure, axes = _panels(runs, 3.6)
    for axis, run in zip(axes, runs):
        scenarios = _load_scenarios(run)
        cpu_x, cpu_rates = [], []
        for offset, (target, label, color) in enumerate(TARGETS):
            xs, heights = [], []
            for index, (_, entry) in enumerate(scenarios):
                value = _value(entry, target, "requests_per_s")
                if value is not None:
                    xs.append(index + (offset - 1) * BAR_WIDTH)
                    heights.append(value)
                cpu_ms = _value(entry, target, "cpu_ms_per_request")
                # PostgreSQL works in its own processes, outside the server's CPU time.
                if cpu_ms and run["backend"] == "sqlite":
                    cpu_x.append(index + (offset - 1) * BAR_WIDTH)
                    cpu_rates.append(1000 / cpu_ms)
            bars = axis.bar(xs, heights, BAR_WIDTH, label=f"{label}: requests per second",
                            color=color)
            if target == "aios-records":
                axis.bar_label(bars, fmt="%.0f", fontsize=7, label_type="center",
                               color="white")
        axis.scatter(cpu_x, cpu_rates, marker="D", s=14, color="black", zorder=3,
                     label="1000 ÷ CPU ms per request: the rate with the core to itself")
        datasette_ran = any(_value(entry, "datasette", "requests_per_s") is not None
                            for _, entry in scenarios)
        for index, (_, entry) in enumerate(scenarios):
            if datasette_ran and _value(entry, "datasette", "requests_per_s") is None:
                axis.text(index, 0.03, "no Datasette\nequivalent", ha="center", va="bottom",
                          fontsize=7, color="#ff7f0e", transform=axis.get_xaxis_transform())
        axis.set_yscale("log")
        axis.set_ylabel("requests per second (log)")
        axis.set_xticks(range(len(scenarios)))
        axis.set_xticklabels([SHORT_LABELS.get(name, name) for name, _ in scenarios], fontsize=8)
        title = _title(run)
        if run["backend"] != "sqlite":
            title += " (no CPU estimate: the database's work is in other processes)"
        axis.set_title(title, fontsize=10)
        axis.grid(axis="y", which="major", alpha=0.3)
    _legend_and_title(figure, axes[0], "Throughput per scenario, higher is better "
                      f"({results['settings']['connections']} connections, server on one core)")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def latency_chart(results: dict, path: Path) -> None:
    runs = results["runs"]
    figure, axes = _panels(runs, 3.6)
    for axis, run in zip(axes, runs):
        scenarios = _load_scenarios(run)
        for offset, (target, label, color) in enumerate(TARGETS):
            xs, p50s, upper = [], [], []
            for index, (_, entry) in enumerate(scenarios):
                p50 = _value(entry, target, "p50_ms")
                p99 = _value(entry, target, "p99_ms")
                if p50 is not None and p99 is not None:
                    xs.append(index + (offset - 1) * BAR_WIDTH)
                    p50s.append(p50)
                    upper.append(max(0.0, p99 - p50))
            axis.bar(xs, p50s, BAR_WIDTH, yerr=[[0] * len(xs), upper], capsize=2,
                     error_kw={"elinewidth": 0.8}, label=f"{label}: p50, whisker to p99",
                     color=color)
        sql_x, sql_ms = [], []
        for index, (_, entry) in enumerate(scenarios):
            median = entry.get("sql", {}).get("median_ms")
            if median:
                sql_x.append(index - BAR_WIDTH)
                sql_ms.append(median)
        axis.scatter(sql_x, sql_ms, marker="_", s=250, color="black", zorder=3,
                     label="the same SQL without HTTP: median")
        axis.set_yscale("log")
        axis.set_ylabel("ms (log)")
        axis.set_xticks(range(len(scenarios)))
        axis.set_xticklabels([SHORT_LABELS.get(name, name) for name, _ in scenarios], fontsize=8)
        axis.set_title(_title(run), fontsize=10)
        axis.grid(axis="y", which="major", alpha=0.3)
    _legend_and_title(figure, axes[0], "Latency under load per scenario, lower is better "
                      f"({results['settings']['connections']} connections)")
    figure.savefig(path, dpi=110)
    plt.close(figure)


def main() -> None:
    results = json.loads(Path(sys.argv[1]).read_text())
    output_dir = Path(sys.argv[2])
    throughput_chart(results, output_dir / "bench-throughput.png")
    latency_chart(results, output_dir / "bench-latency.png")


if __name__ == "__main__":
    main()
