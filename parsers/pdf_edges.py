"""A page's ruling lines snapped and joined, as pdfplumber's table finder does it.

pdfplumber's `TableFinder.get_edges` (default settings: "lines" strategies, tolerances
of 3, edges shorter than 3 dropped) copies every edge dictionary at each step, through
generic helpers; on a form page that is about a fifth of reading its tables. This is the
same computation, step for step and with the same arithmetic (so the same floats), on
the edges `pdf_page` builds. A test compares the two on every PDF here.
"""

from __future__ import annotations

from itertools import groupby
from typing import Any

Edge = dict[str, Any]

SNAP = 3  # pdfplumber's DEFAULT_SNAP_TOLERANCE, x and y
JOIN = 3  # DEFAULT_JOIN_TOLERANCE, x and y
MIN_LENGTH = 3  # TableSettings.edge_min_length
MIN_LENGTH_FIRST = 1  # TableSettings.edge_min_length_prefilter


def table_edges(edges: list[Edge]) -> list[Edge]:
    """The edges pdfplumber's table finder works with, given the page's edges."""
    down = [e for e in edges if e["orientation"] == "v" and e["height"] >= MIN_LENGTH_FIRST]
    across = [e for e in edges if e["orientation"] == "h" and e["width"] >= MIN_LENGTH_FIRST]
    snapped = _snap(down, "x0") + _snap(across, "top")
    snapped.sort(key=_group)
    out: list[Edge] = []
    for (orientation, _at), group in groupby(snapped, key=_group):
        out.extend(_join(list(group), orientation))
    return [e for e in out if e["height" if e["orientation"] == "v" else "width"] >= MIN_LENGTH]


def _group(e: Edge) -> tuple[str, float]:
    return ("h", e["top"]) if e["orientation"] == "h" else ("v", e["x0"])


def _snap(edges: list[Edge], attr: str) -> list[Edge]:
    """Edges within SNAP of each other (chained, by `attr`) moved to their average."""
    if not edges:
        return []
    values = sorted({e[attr] for e in edges})
    cluster_of: dict[float, int] = {}
    n, last = 0, values[0]
    for v in values:
        if v > last + SNAP:
            n += 1
        cluster_of[v] = n
        last = v
    clusters: list[list[Edge]] = [[] for _ in range(n + 1)]
    for e in edges:  # in the given order within each cluster, as a stable sort leaves them
        clusters[cluster_of[e[attr]]].append(e)
    out: list[Edge] = []
    for cluster in clusters:
        avg = sum(e[attr] for e in cluster) / len(cluster)
        for e in cluster:
            d = avg - e[attr]
            if attr == "x0":
                out.append({**e, "x0": e["x0"] + d, "x1": e["x1"] + d})
            else:
                out.append(
                    {**e, "top": e["top"] + d, "bottom": e["bottom"] + d, "doctop": e["doctop"] + d}
                )
    return out


def _join(group: list[Edge], orientation: str) -> list[Edge]:
    """Edges on one line joined where they overlap or are within JOIN of each other."""
    low, high = ("x0", "x1") if orientation == "h" else ("top", "bottom")
    ordered = sorted(group, key=lambda e: e[low])
    joined = [ordered[0]]
    for e in ordered[1:]:
        last = joined[-1]
        if e[low] <= last[high] + JOIN:
            if e[high] > last[high]:
                value = e[high]
                if orientation == "h":
                    joined[-1] = {**last, "x1": value, "width": value - last["x0"]}
                else:
                    diff = value - last["bottom"]
                    joined[-1] = {**last, "bottom": value, "height": last["height"] + diff}
        else:
            joined.append(e)
    return joined
