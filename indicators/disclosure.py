"""Disclosure control (primary and secondary suppression) -- issues 3 and 12.

Interface:

* ``protect(cells, members, threshold=5, *, sums=None, linked=True, previous=None)``
  -> ``cells`` plus ``suppressed``. ``linked`` (issue 12, the default) protects the
  linked tables: nested populations, groups and measures, their identities and
  unemployed_previous_month(t) = unemployed(t-1) (``previous``: protected cells of the
  month before the input). ``linked=False``: the slice-wise method described below.
* ``linked_relations(slices, sums)``: the cross-slice relations protected.

Decisions (linked; docs/disclosure.md has the argument and the measurements): every
suppressed count and every complement (a difference of published cells that counts
persons) from 1 to threshold - 1 has at least two feasible values; each month is
protected on its own, the exit family after the rest with unemployed_previous_month
fixed to unemployed(t-1)'s pattern; a target moves (up or down, whichever hides less)
with the parents its relations need, along a cheapest cycle of the area network; an
exposed move first grows until a sibling municipality on the same two nodes can take
its fall (a two-arc cycle the next audit certifies; ``JOINT_MOVES``); a target whose
move a repair did not certify moves with its ancestors, one step of parents more each
time (all of them after ``_ESCALATE_DEPTHS``); a two-slice nest whose complement is 0 in
every area is an identity of the month's data (one unit).

Slice-wise method (``linked=False``):

* ``protect(cells, members, threshold=5, *, sums=None) -> pl.DataFrame``
  ``cells``: [month, area_type, area_code, population, group, measure, value (Int64,
  may be null)], one row per cell, with every area type, municipality cells included;
  ``members``: [month, area_type, area_code, municipality_code] for every
  non-municipality area. Returns ``cells`` with a Boolean column ``suppressed``:
  primary (1 <= value < threshold) plus secondary suppression so that no suppressed
  value can be recovered from the published ones. ``sums``: measures that are sums
  of other measures cell by cell (default ``SUM_IDENTITIES``).

Why a flow network (docs/disclosure.md has the full argument). In one slice
(month, population, group, measure) every relation says "area = sum of its member
municipalities". The areas fall into two laminar families -- the regions, and the
trial geography (trial areas inside all_trials, comparison, country) -- so the
relations are exactly the conservation laws of a network: a node per area, an arc
per cell, a municipality's arc running from its smallest trial-side area to its
region. A suppressed value can be recovered (the attacker knows every published
value, every relation, and that a suppressed value is an integer >= 1) exactly when
its arc lies on no cycle of the *residual* graph of the unknown arcs (an unknown arc
can always grow; it can shrink only if its value is >= 2). That test is exact (it is
what an integer or linear programme would find, since network matrices are totally
unimodular) and it vectorises over all slices at once: strongly connected components
plus a bridge test. Complementary suppressions are chosen as a cheapest path closing a
cycle through each exposed arc (cost = the value hidden), one exposed arc of every
slice per Dijkstra run, and the audit is repeated until it finds nothing.
"""

from __future__ import annotations

import contextlib
import gc
import os
import signal
import sys
from collections import deque

import numpy as np
import polars as pl

from trialmon.months import shift_month


def _graph_tools():
    """scipy's sparse matrices and graph algorithms, imported on first use: the serving
    process imports this module (for METHOD, via indicators.provenance) but never
    protects anything, and scipy costs it ~0.5 s and ~40 MB."""
    from scipy import sparse  # start-up: see above
    from scipy.sparse import csgraph  # start-up: see above

    return sparse, csgraph


# Stored with every computation (the `computation` table): change METHOD_VERSION
# whenever a change here can change which cells are suppressed.
# (computation.method is VARCHAR(64); the relations are in DISCLOSURE_TEXT and the docs)
METHOD = "primary threshold + linked secondary suppression"
METHOD_VERSION = "5-linked-depth"

# A run of fewer months than this is not worth a process of its own (each run also
# protects the month before it, and a spawned process takes ~2 s to start).
RUN_MIN_MONTHS = 6
# ... and with a ``WorkerPool`` that outlives the call (its processes start once per
# computation): a national six-month chunk then splits into two runs of three.
POOLED_RUN_MIN_MONTHS = 3

SLICE_KEYS = ["month", "population", "group", "measure"]
AREA_KEYS = ["month", "area_type", "area_code"]
CELL_COLUMNS = [*AREA_KEYS, "population", "group", "measure", "value"]
MEMBER_COLUMNS = [*AREA_KEYS, "municipality_code"]
REGION_FAMILY = ("region",)  # every other area type belongs to the trial-side family

# Tiny cost of walking an arc that is already unknown: keeps such arcs preferred over
# any published arc (whose cost is its value >= 1) without making paths free.
_UNKNOWN_ARC_COST = 1e-6
# A published arc costs its value plus rank x this: equal values are then broken by
# the arc's place in (area_type, area_code) order, never by the input's row order, so
# equal slices on equal geographies get equal patterns (unemployed_previous_month in
# t is unemployed in t-1). Far below 1 even summed over the longest path.
_TIE_BREAK = 1e-9
CHUNK_CELLS = 1_000_000
# The cost of a target's own edges while a cycle through it is sought: a path that
# would need it is no path (a distance this large means "not reachable").
_UNREACHABLE = 1e15


# Published measures that are exact sums of other published measures, cell by cell.
# The sum takes the union of its parts' patterns (see _share_sum_patterns).
SUM_IDENTITIES: dict[str, tuple[str, ...]] = {
    "unemployed_or_in_services": ("unemployed", "in_services"),
}


class DisclosureError(ValueError):
    """The input cannot be protected as given (wrong columns, overlapping areas)."""


class WorkerPool:
    """Worker processes for ``protect`` that outlive one call: a computation protects
    its months chunk by chunk, and a pool started per call paid ~2 s of process start
    each time (ten times in a five-year national run), so chunks of six months ran in
    one process. Started on first use ('spawn': a forked child of a process that ran
    Polars can hang on its first query); ``close`` (or the ``with`` block) ends it."""

    def __init__(self, workers: int):
        self.workers = workers
        self._executor = None

    def executor(self):
        if self._executor is None:
            import multiprocessing  # start-up: only a parallel protection needs it
            from concurrent.futures import ProcessPoolExecutor  # start-up: as above

            self._executor = ProcessPoolExecutor(
                self.workers, mp_context=multiprocessing.get_context("spawn"),
                initializer=_die_with_parent, initargs=(os.getpid(),))
        return self._executor

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def protect(cells: pl.DataFrame, members: pl.DataFrame, threshold: int = 5, *,
            sums: dict[str, tuple[str, ...]] | None = None, linked: bool = True,
            previous: pl.DataFrame | None = None, workers: int = 1,
            pool: WorkerPool | None = None) -> pl.DataFrame:
    """Flag every cell that must not be published: primary and secondary suppression.

    Primary: ``1 <= value < threshold`` (zero is shown, null is left alone). Secondary:
    the cheapest complementary cells, never a zero or null, such that no suppressed
    value is determined by the published values and the relations area = sum of its
    member municipalities (with the knowledge that a suppressed value is >= 1).
    ``sums`` (default ``SUM_IDENTITIES``) names measures that are cell-by-cell sums of
    others; such a measure is hidden exactly where one of its parts is, which keeps the
    identity from reopening a hidden part (docs/disclosure.md). ``workers`` (linked): up
    to that many processes protect runs of consecutive months side by side, with the
    same result as one (each run first protects the month before it for its pattern);
    ``pool``: those processes, kept between calls (its size replaces ``workers``).
    """
    _check_input(cells, members, threshold)
    if linked:
        flags = _protect_linked(cells, members, threshold,
                                SUM_IDENTITIES if sums is None else sums, previous,
                                pool.workers if pool else workers, pool)
        return cells.with_columns(pl.Series("suppressed", flags, dtype=pl.Boolean))
    arcs, nodes_per_month = _network(members)
    flags = np.zeros(cells.height, dtype=bool)
    indexed = cells.select(*CELL_COLUMNS[:-1], pl.col("value").cast(pl.Int64))
    indexed = indexed.with_row_index("_row")
    for months in _month_chunks(cells):
        chunk = indexed.filter(pl.col("month").is_in(months.implode()))
        grid = _grid(chunk, arcs, nodes_per_month, threshold)
        suppressed = _secondary_suppression(grid)
        rows = grid.get_column("_row").fill_null(-1).cast(pl.Int64).to_numpy()
        from_cells = rows >= 0
        flags[rows[from_cells]] = suppressed[from_cells]
    flags = _share_sum_patterns(cells, flags, SUM_IDENTITIES if sums is None else sums)
    return cells.with_columns(pl.Series("suppressed", flags, dtype=pl.Boolean))


def _share_sum_patterns(cells: pl.DataFrame, flags: np.ndarray,
                        sums: dict[str, tuple[str, ...]]) -> np.ndarray:
    """A sum measure S = A + B + ... is hidden exactly where one of its parts is.

    Why this is safe: any alternative the attacker cannot exclude for part A (a change
    of A on A's hidden cells) is also one for S (the same change on S's cells, which
    are hidden there, with B unchanged), so hidden parts stay open and every hidden S
    cell moves with a hidden part. Hiding more S cells than that would be unsafe: an S
    cell whose parts are all published is their sum. S's primary cells are covered,
    since a positive S below the threshold has a positive part below it.
    """
    cell_keys = [*AREA_KEYS, "population", "group"]
    measures = set(cells.get_column("measure").unique().to_list())
    for total, parts in sums.items():
        if total not in measures or not set(parts) <= measures:
            continue
        indexed = cells.lazy().with_row_index("_row").with_columns(
            pl.Series("_flag", flags.copy(), dtype=pl.Boolean))
        part_flags = (
            indexed.filter(pl.col("measure").is_in(list(parts)))
            .group_by(cell_keys)
            .agg(pl.col("_flag").any().alias("_part_hidden"), pl.len().alias("_n_parts"))
        )
        shared = (
            indexed.filter(pl.col("measure") == total)
            .join(part_flags, on=cell_keys, how="inner")
            .filter((pl.col("_n_parts") == len(parts)) & pl.col("value").is_not_null())
            .select("_row", "_part_hidden")
            .collect()
        )
        rows = shared.get_column("_row").to_numpy()
        flags[rows] = shared.get_column("_part_hidden").to_numpy()
    return flags


def _month_chunks(cells: pl.DataFrame) -> list[pl.Series]:
    """Months in groups of about CHUNK_CELLS cells: slices are independent, so working
    a few months at a time bounds memory without changing any result."""
    per_month = cells.group_by("month").len().sort("month")
    chunk = (per_month.get_column("len").cum_sum() - 1) // CHUNK_CELLS
    return [part.get_column("month") for part in per_month.with_columns(chunk=chunk)
            .partition_by("chunk", maintain_order=True)]


def _check_input(cells: pl.DataFrame, members: pl.DataFrame, threshold: int) -> None:
    missing = [c for c in CELL_COLUMNS if c not in cells.columns]
    missing += [f"members.{c}" for c in MEMBER_COLUMNS if c not in members.columns]
    if missing:
        raise DisclosureError(f"protect: missing columns {missing}")
    if not isinstance(threshold, int) or threshold < 1:
        raise DisclosureError(f"protect: threshold must be a positive integer, got {threshold!r}")
    negative = cells.filter(pl.col("value") < 0)
    if negative.height:
        raise DisclosureError(f"protect: negative count {negative.row(0, named=True)}")


# --- the network: nodes per month, one arc per area or municipality -------------------


def _network(members: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Arcs [month, area_type, area_code, tail, head] and [month, n_nodes] per month.

    Node 0 is the root (source and sink merged: the total flow is not a relation).
    Every area is a node; its arc enters it from its parent (trial-side family) or
    leaves it towards its parent (region family); a municipality's arc runs from its
    smallest trial-side area to its smallest region-side area.
    """
    members = (
        members.lazy()
        .filter(pl.col("area_type") != "municipality")
        .select(MEMBER_COLUMNS)
        .unique()
        .with_columns(pl.col("area_type").is_in(REGION_FAMILY).alias("_region_side"))
        .with_columns(pl.len().over(AREA_KEYS).alias("_size"))
        .collect()
    )
    nodes = (
        members.select(*AREA_KEYS, "_region_side").unique()
        .sort(AREA_KEYS)
        .with_columns((pl.int_range(pl.len()).over("month") + 1).alias("_node"))
    )
    chains = _chains(members).join(nodes.drop("_region_side"), on=AREA_KEYS)
    parents = _parents(chains, nodes)
    area_arcs = parents.select(
        *AREA_KEYS,
        pl.when(pl.col("_region_side")).then(pl.col("_node")).otherwise(pl.col("_parent"))
        .alias("tail"),
        pl.when(pl.col("_region_side")).then(pl.col("_parent")).otherwise(pl.col("_node"))
        .alias("head"),
    )
    leaves = (
        chains.filter(pl.col("_rank") == 0)
        .group_by("month", "municipality_code")
        .agg(
            pl.col("_node").filter(~pl.col("_region_side")).first().fill_null(0).alias("tail"),
            pl.col("_node").filter(pl.col("_region_side")).first().fill_null(0).alias("head"),
        )
        .select("month", pl.lit("municipality").alias("area_type"),
                pl.col("municipality_code").alias("area_code"), "tail", "head")
    )
    arcs = (
        pl.concat([area_arcs, leaves.cast(area_arcs.schema)])
        .sort(AREA_KEYS)
        .with_columns(pl.int_range(pl.len()).over("month").alias("_arc_rank"))
    )
    nodes_per_month = nodes.group_by("month").agg((pl.col("_node").max() + 1).alias("n_nodes"))
    return arcs, nodes_per_month


def _chains(members: pl.DataFrame) -> pl.DataFrame:
    """For each (month, municipality, family): its areas from smallest to largest."""
    return members.sort(
        "month", "municipality_code", "_region_side", "_size", "area_type", "area_code"
    ).with_columns(
        pl.int_range(pl.len()).over("month", "municipality_code", "_region_side").alias("_rank"),
        pl.col("area_type").shift(-1).over("month", "municipality_code", "_region_side")
        .alias("_next_type"),
        pl.col("area_code").shift(-1).over("month", "municipality_code", "_region_side")
        .alias("_next_code"),
    )


def _parents(chains: pl.DataFrame, nodes: pl.DataFrame) -> pl.DataFrame:
    """Each area's parent node (0 = root); raises if a family is not laminar.

    In a laminar family the next larger area around a municipality is the same for
    every member of an area; if two members disagree, the areas overlap and the
    relations are no longer a network.
    """
    per_area = chains.group_by(AREA_KEYS).agg(
        pl.struct("_next_type", "_next_code").n_unique().alias("_n_parents"),
        pl.col("_next_type").first(), pl.col("_next_code").first(),
    )
    overlapping = per_area.filter(pl.col("_n_parents") > 1)
    if overlapping.height:
        raise DisclosureError(
            "protect: areas of one family overlap without nesting (e.g. "
            f"{overlapping.sort(AREA_KEYS).row(0, named=True)}); disclosure control needs "
            "regions and the trial-side areas to each form nested partitions"
        )
    parent_nodes = nodes.select(
        "month", pl.col("area_type").alias("_next_type"),
        pl.col("area_code").alias("_next_code"), pl.col("_node").alias("_parent"),
    )
    return (
        nodes.join(per_area.drop("_n_parents"), on=AREA_KEYS)
        .join(parent_nodes, on=["month", "_next_type", "_next_code"], how="left")
        .with_columns(pl.col("_parent").fill_null(0))
    )


# --- the grid: one row per arc per slice ---------------------------------------------


def _grid(cells: pl.DataFrame, arcs: pl.DataFrame, nodes_per_month: pl.DataFrame,
          threshold: int) -> pl.DataFrame:
    """[_row, _slice, tail, head (global node ids), value, _free, _primary, _candidate].

    Rows from ``cells`` (which carry their row number ``_row``) come first; then the
    arcs of areas that have a relation but no cell in a slice (unknown to the attacker,
    never a secret). A null area value is such a free arc too; a null municipality
    value is a known nothing (the roll-up makes a slice null everywhere at once).
    Cells outside every relation get tail = head and never take part.
    """
    slices = (
        cells.select(SLICE_KEYS).unique().sort(SLICE_KEYS)
        .join(nodes_per_month, on="month", how="left")
        .with_columns(pl.col("n_nodes").fill_null(1))
        .with_columns(
            pl.int_range(pl.len()).alias("_slice"),
            (pl.col("n_nodes").cum_sum() - pl.col("n_nodes")).alias("_offset"),
        )
    )
    slice_ids = slices.lazy().select(*SLICE_KEYS, "_slice", "_offset")
    present = (
        cells.lazy().select("_row", *SLICE_KEYS, "area_type", "area_code", "value")
        .join(arcs.lazy(), on=AREA_KEYS, how="left")
        .join(slice_ids, on=SLICE_KEYS)
        .collect()
        .lazy()
    )
    absent = (
        slice_ids.join(arcs.lazy().filter(pl.col("area_type") != "municipality"), on="month")
        .join(present.select("_slice", "_arc_rank"), on=["_slice", "_arc_rank"], how="anti")
        .with_columns(pl.lit(None, pl.UInt32).alias("_row"),
                      pl.lit(None, pl.Int64).alias("value"))
    )
    is_area = pl.col("area_type") != "municipality"
    return (
        pl.concat([present, absent.select(present.collect_schema().names())])
        .select(
            "_row", "_slice", "_arc_rank",
            (pl.col("_offset") + pl.col("tail").fill_null(0)).alias("tail"),
            (pl.col("_offset") + pl.col("head").fill_null(0)).alias("head"),
            pl.col("value").cast(pl.Int64),
            (is_area & pl.col("value").is_null()).alias("_free"),
            pl.col("value").is_between(1, threshold - 1).fill_null(False).alias("_primary"),
        )
        .with_columns(
            (pl.col("tail") == pl.col("head")).alias("_isolated"),
        )
        .with_columns(
            ((pl.col("value") >= 1) & ~pl.col("_isolated")).fill_null(False).alias("_candidate"),
        )
        .sort("_slice", "_arc_rank", nulls_last=True, maintain_order=True)
        .collect()
    )


# --- secondary suppression on the networks of all slices at once ---------------------


def _secondary_suppression(grid: pl.DataFrame) -> np.ndarray:
    """Suppression flags aligned with ``grid``: primary plus complementary cells.

    Each round audits every still-active slice exactly; then, exposed arc by exposed
    arc (the k-th of every slice at once), it suppresses the cheapest published arcs
    closing a cycle through the arc. A slice leaves the loop when its audit finds
    nothing exposed; the loop ends when no slice is left.
    """
    slice_id = grid.get_column("_slice").to_numpy()
    value = grid.get_column("value").fill_null(0).to_numpy()
    free = grid.get_column("_free").to_numpy()
    in_network = ~grid.get_column("_isolated").to_numpy()
    tail, head = grid.get_column("tail").to_numpy(), grid.get_column("head").to_numpy()
    suppressed = grid.get_column("_primary").to_numpy().copy()
    paths = _CyclePaths(slice_id, tail, head, value, free,
                        grid.get_column("_candidate").to_numpy(),
                        grid.get_column("_arc_rank").fill_null(0).to_numpy(), suppressed)
    active = np.zeros(int(slice_id.max(initial=-1)) + 1, dtype=bool)
    active[slice_id[suppressed & in_network]] = True
    while active.any():
        sel = np.flatnonzero(active[slice_id] & in_network)
        exposed = sel[_Network(tail[sel], head[sel], value[sel], free[sel],
                               suppressed[sel]).exposed()]
        active[:] = False
        active[slice_id[exposed]] = True
        for targets in _one_per_slice(exposed, slice_id):
            suppressed[paths.close(targets)] = True
    return suppressed


def _one_per_slice(arcs: np.ndarray, slice_id: np.ndarray):
    """Split sorted arc indices into layers holding at most one arc of each slice."""
    if arcs.size == 0:
        return
    slices = slice_id[arcs]
    first = np.flatnonzero(np.r_[True, slices[1:] != slices[:-1]])
    rank = np.arange(arcs.size) - np.repeat(first, np.diff(np.r_[first, arcs.size]))
    for k in range(int(rank.max()) + 1):
        yield arcs[rank == k]


class _Network:
    """The residual graph of the unknown arcs of some slices (nodes renumbered 0..n-1).

    An unknown arc (suppressed, or an area total with no value) can always carry one
    more unit; it can carry one less if its value is >= 2 (a free arc always can).
    """

    def __init__(self, tail, head, value, free, suppressed, forward=None, backward=None):
        unknown = suppressed | free
        self.secret = suppressed[unknown]
        nodes, inverse = np.unique(np.concatenate([tail[unknown], head[unknown]]),
                                   return_inverse=True)
        self.n = nodes.size
        self.tail, self.head = np.split(inverse, 2)
        # forward: the arc can grow by the required amount; backward: it can shrink.
        # Default (slice-wise protection): always grow, shrink if the value is >= 2.
        self.forward = (np.ones(int(unknown.sum()), dtype=bool) if forward is None
                        else forward[unknown])
        self.backward = (free[unknown] | (value[unknown] >= 2) if backward is None
                         else backward[unknown])
        self.two_way = self.forward & self.backward
        self.unknown = unknown

    def exposed(self) -> np.ndarray:
        """Mask over the input arcs: suppressed arcs whose value the attacker can pin.

        An arc's value can change iff the arc lies on a cycle of the residual graph
        that uses it once. A one-way arc does iff its ends share a strongly connected
        component; a two-way arc does iff, in addition, it is not a bridge of the
        undirected graph of the arcs inside components (docs/disclosure.md proves it).
        """
        result = np.zeros(self.unknown.size, dtype=bool)
        if self.n == 0:
            return result
        component = self._components()
        movable = self.forward | self.backward
        inside = (component[self.tail] == component[self.head]) & movable
        bridge = np.zeros(inside.size, dtype=bool)
        bridge[inside] = _bridges(self.tail[inside], self.head[inside], self.n)
        pinned = ~inside | (self.two_way & bridge)
        result[np.flatnonzero(self.unknown)[self.secret & pinned]] = True
        return result

    def _components(self) -> np.ndarray:
        src = np.concatenate([self.tail[self.forward], self.head[self.backward]])
        dst = np.concatenate([self.head[self.forward], self.tail[self.backward]])
        sparse, csgraph = _graph_tools()
        graph = sparse.csr_matrix((np.ones(src.size, dtype=np.int8), (src, dst)),
                                  shape=(self.n, self.n))
        return csgraph.connected_components(graph, directed=True, connection="strong")[1]


def _bridges(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """Mask of the edges (a_i, b_i) of an undirected multigraph that are bridges.

    A spanning forest is rooted by one breadth-first search; each non-forest edge adds
    a random 64-bit label to both its ends; a forest edge is a bridge iff the labels
    in the subtree below it cancel (XOR to 0). A true bridge always cancels, so the
    test can only err towards "bridge" (one more suppression), never the unsafe way.
    """
    if a.size == 0:
        return np.zeros(0, dtype=bool)
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    pairs, pair_of_edge, multiplicity = np.unique(
        lo.astype(np.int64) * n + hi, return_inverse=True, return_counts=True)
    p_lo, p_hi = pairs // n, pairs % n
    sparse, csgraph = _graph_tools()
    forest = csgraph.minimum_spanning_tree(
        sparse.csr_matrix((np.ones(pairs.size), (p_lo, p_hi)), shape=(n, n)))
    f_lo, f_hi = forest.nonzero()
    parent, order, depth = _root_forest(f_lo, f_hi, n)
    in_forest = (parent[p_lo] == p_hi) | (parent[p_hi] == p_lo)
    labels = np.zeros(n + 1, dtype=np.uint64)
    rng = np.random.default_rng(20210301)
    cycle_pairs = np.flatnonzero(~in_forest)
    random_labels = rng.integers(1, 2**63, size=cycle_pairs.size, dtype=np.uint64)
    np.bitwise_xor.at(labels, p_lo[cycle_pairs], random_labels)
    np.bitwise_xor.at(labels, p_hi[cycle_pairs], random_labels)
    for level in range(int(depth.max()), 1, -1):  # children before parents, level by level
        at_level = order[depth[order] == level]
        np.bitwise_xor.at(labels, parent[at_level], labels[at_level])
    child = np.where(parent[p_lo] == p_hi, p_lo, p_hi)
    pair_is_bridge = in_forest & (labels[child] == 0) & (multiplicity == 1)
    return pair_is_bridge[pair_of_edge]


def _root_forest(f_lo: np.ndarray, f_hi: np.ndarray, n: int):
    """Parent, breadth-first order and depth of every node of a forest.

    A super-root (node n) is joined to one node of each tree so that a single search
    roots them all; its own depth is 0, the trees' roots have depth 1.
    """
    sparse, csgraph = _graph_tools()
    forest = sparse.csr_matrix((np.ones(f_lo.size), (f_lo, f_hi)), shape=(n, n))
    _, tree_of = csgraph.connected_components(forest, directed=False)
    roots = np.unique(tree_of, return_index=True)[1]
    src = np.concatenate([f_lo, np.full(roots.size, n)])
    dst = np.concatenate([f_hi, roots])
    rooted = sparse.csr_matrix((np.ones(src.size), (src, dst)), shape=(n + 1, n + 1))
    order, parent = csgraph.breadth_first_order(rooted, n, directed=False,
                                                return_predecessors=True)
    depth = np.zeros(n + 1, dtype=np.int64)
    for _ in range(n + 1):  # one pass per level; breadth-first order is level-sorted
        new = depth.copy()
        new[order[1:]] = depth[parent[order[1:]]] + 1
        if np.array_equal(new, depth):
            break
        depth = new
    return parent, order, depth


class _CyclePaths:
    """Cheapest cycles through given arcs, one arc per slice, all slices in one search.

    For a target arc t -> h the cycle is t -> h followed by a cheapest path h -> t
    that avoids the target itself: an unknown arc costs almost nothing, a published
    arc costs its value, and an arc may be walked backwards only if its value is >= 2
    (it must stay >= 1 when the attacker's alternative lowers it) or it is free.
    Parallel arcs (same ends, same direction) collapse into one graph edge carrying
    the cheapest of them. The graph is built once; an arc hidden later only lowers
    its edges' costs, and a target is taken out of its edges for one search only.
    Slices are disjoint, so one multi-source Dijkstra serves them all.
    """

    def __init__(self, slice_id, tail, head, value, free, candidate, rank, suppressed,
                 forward=None, backward=None, cost=None):
        self.slice_id, self.tail, self.head, self.candidate = slice_id, tail, head, candidate
        self.linked = cost is not None
        if forward is None:  # slice-wise protection: grow always, shrink from 2
            forward = np.ones(tail.size, dtype=bool)
            backward = free | (value >= 2)
        usable = (candidate | suppressed | free) & (tail != head)
        if cost is None:
            usable = candidate | (free & (tail != head))
        walkable = np.flatnonzero(usable & (forward | backward))
        ahead = forward[walkable]
        two_way = backward[walkable]
        src = np.concatenate([tail[walkable[ahead]], head[walkable[two_way]]])
        dst = np.concatenate([head[walkable[ahead]], tail[walkable[two_way]]])
        self.n = int(max(tail.max(initial=0), head.max(initial=0))) + 1
        key = src.astype(np.int64) * self.n + dst
        order = np.argsort(key, kind="stable")
        key = key[order]
        self.edge_arc = np.concatenate([walkable[ahead], walkable[two_way]])[order]
        unknown = suppressed[self.edge_arc] | free[self.edge_arc]
        hidden_value = value if cost is None else cost
        published_cost = hidden_value[self.edge_arc] + rank[self.edge_arc] * _TIE_BREAK
        self.edge_cost = np.where(unknown, _UNKNOWN_ARC_COST, published_cost)
        boundary = np.r_[True, key[1:] != key[:-1]] if key.size else np.zeros(0, bool)
        self.group_of_edge = np.cumsum(boundary) - 1
        self.group_start = np.r_[np.flatnonzero(boundary), key.size]
        self.group_key = key[boundary]
        self.group_arc, group_cost = _cheapest_of_groups(
            self.edge_cost, self.edge_arc, self.group_of_edge, self.group_start[:-1])
        indptr = np.r_[0, np.cumsum(np.bincount(self.group_key // self.n, minlength=self.n))]
        sparse, csgraph = _graph_tools()
        self.graph = sparse.csr_matrix((group_cost, self.group_key % self.n, indptr),
                                       shape=(self.n, self.n))
        self.edges_of_arc = [np.full(tail.size, -1), np.full(tail.size, -1)]
        is_forward = np.r_[np.ones(int(ahead.sum()), bool), np.zeros(int(two_way.sum()), bool)][order]
        self.edges_of_arc[0][self.edge_arc[is_forward]] = np.flatnonzero(is_forward)
        self.edges_of_arc[1][self.edge_arc[~is_forward]] = np.flatnonzero(~is_forward)
        edge_slice = slice_id[self.edge_arc]
        self.slice_start = np.searchsorted(edge_slice, np.arange(int(slice_id.max(initial=-1)) + 1))
        self.slice_stop = np.searchsorted(edge_slice, np.arange(self.slice_start.size), "right")

    def close(self, targets: np.ndarray) -> np.ndarray:
        """Published arcs to hide so that every target arc lies on a cycle (now hidden)."""
        groups, saved_cost, saved_arc = self._take_out(targets)
        start, goal = self.head[targets], self.tail[targets]
        sparse, csgraph = _graph_tools()
        dist, pred, _ = csgraph.dijkstra(self.graph, directed=True, indices=start,
                                         min_only=True, return_predecessors=True)
        reached = dist[goal] < _UNREACHABLE
        on_path = _walk_back(goal[reached], start, pred, self.group_key, self.group_arc, self.n)
        self.graph.data[groups], self.group_arc[groups] = saved_cost, saved_arc
        chosen = on_path[self.candidate[on_path]]
        stranded = self.slice_id[targets[~reached]]
        self.stranded = stranded
        if stranded.size and not self.linked:  # impossible for consistent sums: hide the slice
            everything = self.edge_arc[_ranges(self.slice_start[stranded],
                                               self.slice_stop[stranded])]
            chosen = np.concatenate([chosen, everything[self.candidate[everything]]])
        self._hide(np.unique(chosen))
        return chosen

    def _take_out(self, targets):
        """Re-price the targets' edge groups without the targets; returns what to restore."""
        edges = np.concatenate([e[targets] for e in self.edges_of_arc])
        groups = np.unique(self.group_of_edge[edges[edges >= 0]])
        saved = self.graph.data[groups].copy(), self.group_arc[groups].copy()
        members = _ranges(self.group_start[groups], self.group_start[groups + 1])
        cost = self.edge_cost[members]
        cost[np.isin(self.edge_arc[members], targets)] = _UNREACHABLE * 10
        local_group = np.repeat(np.arange(groups.size),
                                self.group_start[groups + 1] - self.group_start[groups])
        starts = np.r_[0, np.cumsum(self.group_start[groups + 1] - self.group_start[groups])[:-1]]
        arc, cheapest = _cheapest_of_groups(cost, self.edge_arc[members], local_group,
                                            starts.astype(np.int64))
        self.graph.data[groups], self.group_arc[groups] = cheapest, arc
        return groups, *saved

    def _hide(self, arcs: np.ndarray) -> None:
        """Arcs just suppressed: their edges cost next to nothing from now on."""
        for edges in self.edges_of_arc:
            edge = edges[arcs]
            edge = edge[edge >= 0]
            self.edge_cost[edge] = _UNKNOWN_ARC_COST
            group = self.group_of_edge[edge]
            self.graph.data[group] = _UNKNOWN_ARC_COST
            self.group_arc[group] = self.edge_arc[edge]


def _cheapest_of_groups(cost, arc, group, starts):
    """Per group of consecutive edges: the arc of its cheapest edge and that cost."""
    if cost.size == 0:
        return arc[:0], cost[:0]
    group_cost = np.minimum.reduceat(cost, starts)
    cheapest = np.flatnonzero(cost == group_cost[group])
    first = cheapest[np.r_[True, group[cheapest][1:] != group[cheapest][:-1]]]
    return arc[first], group_cost


def _ranges(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """The concatenated index ranges [start_i, stop_i)."""
    length = stop - start
    offsets = np.repeat(start - np.r_[0, np.cumsum(length)[:-1]], length)
    return np.arange(int(length.sum())) + offsets


def _walk_back(goal, start, pred, keys, key_arc, n) -> np.ndarray:
    """Arcs on the predecessor paths from each goal back to its start node."""
    current = goal[pred[goal] >= 0]
    found = []
    while current.size:
        previous = pred[current]
        found.append(key_arc[np.searchsorted(keys, previous.astype(np.int64) * n + current)])
        current = previous[~np.isin(previous, start)]
    return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)


# ===================================================================================
# Linked tables (issue 12): populations, groups, measures and months protected together
# ===================================================================================

# Nested populations and groups: child -> parent. A parent cell is its published child
# plus an unpublished complement (e.g. all - target_group: persons outside the target
# group), a count the attacker can compute wherever both are published.
POPULATION_NESTS: dict[str, str] = {"target_group": "all", "trial_customers": "all"}
GROUP_NESTS: dict[str, str] = {"under_30": "all", "foreign_language": "all",
                               "no_earnings_related": "all"}
# Measures nested in another measure of the same cell (parent, children): parent =
# children + an unpublished complement >= 0 (the children are disjoint). From the
# definitions in indicators/stocks.py, flows.py, process.py and the input contract
# (statuses are exclusive; service_type is set only when status is 'service').
MEASURE_NESTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("unemployed", ("laid_off",)),
    ("unemployed", ("long_term_unemployed",)),
    ("unemployed", ("plan_up_to_date",)),
    ("unemployed", ("review_3m",)),
    ("unemployed", ("inflow_unemployed",)),
    ("in_services", ("in_labour_training", "in_pay_subsidy")),
    ("jobseekers", ("unemployed", "in_services", "employed_open")),
    ("unemployed_previous_month", ("exit_open_market", "exit_services")),
    ("interview_cohort", ("interview_5wd",)),
)
# Measures counting only unemployed, laid-off or in-service persons: every such person
# who is foreign-language or without earnings-related benefit is in the target group
# (measures._membership), as is every person under 30 for any measure. So these
# population complements are structurally 0 (an identity the attacker knows).
STATUS_MEASURES = frozenset({
    "unemployed", "laid_off", "long_term_unemployed", "in_services", "in_labour_training",
    "in_pay_subsidy", "unemployed_or_in_services", "inflow_unemployed", "plan_up_to_date",
    "review_3m", "unemployed_previous_month", "exit_open_market", "exit_services",
})
# measure(t) is measure(t-1) cell by cell: unemployed_previous_month(t) = unemployed(t-1).
LINKED_MONTHS: dict[str, str] = {"unemployed_previous_month": "unemployed"}
# The exit family is protected after the month's other measures, with the pattern of
# unemployed_previous_month(t) fixed to that of unemployed(t-1).
EXIT_FAMILY = frozenset({"unemployed_previous_month", "exit_open_market", "exit_services"})
_MAX_ROUNDS = 40
# Hiding a large area's total costs its value times this: a cycle avoids the country,
# all trials and the comparison group whenever another way exists (their totals are
# the dashboard's headline figures).
AREA_COST_WEIGHT = {"country": 100.0, "all_trials": 10.0, "comparison": 10.0}
# An escalated target first rises with its parents one step up, then two, ... and with
# all its ancestors after this many steps (docs/disclosure.md, "Escalation by depth").
_ESCALATE_DEPTHS = 3
ALL_ANCESTORS = -1  # the depth of a target that rises with every ancestor

Slice = tuple[str, str, str]  # (population, group, measure)


def structurally_equal(population: str, group: str, measure: str) -> bool:
    """True where (all, group, measure) = (population, group, measure) by definition."""
    return population == "target_group" and (
        group == "under_30"
        or (group in ("foreign_language", "no_earnings_related") and measure in STATUS_MEASURES))


def linked_relations(slices: list[Slice], sums: dict[str, tuple[str, ...]]
                     ) -> list[tuple[dict[Slice, int], bool]]:
    """Every cross-slice relation among ``slices``: (coefficients, exact).

    The complement ``sum(coefficient x value)`` is a count of persons, >= 0 in every
    area; ``exact`` relations have complement 0 by definition (sums, structural nests).
    """
    present = set(slices)
    out: list[tuple[dict[Slice, int], bool]] = []
    for population, group, measure in sorted(present):
        parent = POPULATION_NESTS.get(population)
        if parent and (parent, group, measure) in present:
            out.append(({(parent, group, measure): 1, (population, group, measure): -1},
                        structurally_equal(population, group, measure)))
        parent = GROUP_NESTS.get(group)
        if parent and (population, parent, measure) in present:
            out.append(({(population, parent, measure): 1, (population, group, measure): -1},
                        False))
    cells = sorted({(p, g) for p, g, _ in present})
    nests = [(parent, children, False) for parent, children in MEASURE_NESTS]
    nests += [(total, parts, True) for total, parts in sums.items()]
    for population, group in cells:
        for parent, children, exact in nests:
            kids = [c for c in children if (population, group, c) in present]
            if (population, group, parent) not in present or not kids:
                continue
            if exact and len(kids) < len(children):
                continue
            terms = {(population, group, parent): 1}
            terms |= {(population, group, c): -1 for c in kids}
            out.append((terms, exact))
    return out


def _protect_linked(cells: pl.DataFrame, members: pl.DataFrame, threshold: int,
                    sums: dict[str, tuple[str, ...]], previous: pl.DataFrame | None,
                    workers: int = 1, pool: WorkerPool | None = None) -> np.ndarray:
    arcs, nodes_per_month = _network(members)
    n_nodes = dict(zip(nodes_per_month["month"], nodes_per_month["n_nodes"], strict=True))
    indexed = cells.select(*CELL_COLUMNS[:-1], pl.col("value").cast(pl.Int64)).with_row_index("_row")
    carried = None if previous is None else _unemployed_pattern(previous)
    parts = dict(indexed.partition_by("month", as_dict=True))
    months = sorted(month for (month,) in parts)
    runs = _month_runs(months, workers, POOLED_RUN_MIN_MONTHS if pool else RUN_MIN_MONTHS)
    jobs = [(run, {m: parts[(m,)] for m in [*lead, *run]}, arcs.filter(
                pl.col("month").is_in([*lead, *run])), n_nodes, threshold, sums,
             carried, lead) for lead, run in runs]
    flags = np.zeros(cells.height, dtype=bool)
    for rows, hidden in _run_jobs(jobs, workers, pool):
        flags[rows] = hidden
    return flags


def _month_runs(months: list[str], workers: int, min_months: int = RUN_MIN_MONTHS
                ) -> list[tuple[list[str], list[str]]]:
    """Months split into `workers` runs of consecutive months, each with its lead-in:
    the month before the run (protected only to carry its 'unemployed' pattern, as the
    sequential loop would; the first run needs none). Runs of fewer than `min_months`
    are not worth a process."""
    if not months:
        return []
    count = max(1, min(workers, len(months) // min_months))
    size = -(-len(months) // count)
    runs = [months[i:i + size] for i in range(0, len(months), size)]
    return [(months[max(0, i * size - 1):i * size], run) for i, run in enumerate(runs)]


def _run_jobs(jobs: list[tuple], workers: int, pool: WorkerPool | None = None):
    """Each job's (rows, hidden) flags; several jobs in worker processes (``pool``'s, or
    a pool for this call)."""
    if len(jobs) <= 1 or workers <= 1:
        return [_protect_months(*job) for job in jobs]
    if pool is not None:
        return list(pool.executor().map(_protect_months, *zip(*jobs, strict=True)))
    with WorkerPool(len(jobs)) as own:
        return list(own.executor().map(_protect_months, *zip(*jobs, strict=True)))


def _die_with_parent(parent: int) -> None:
    """A worker ends when the computation that started it is killed (otherwise it
    would protect months for nobody, at full CPU, until it finished): on Linux the
    kernel sends it SIGTERM when its parent dies."""
    if sys.platform.startswith("linux"):
        import ctypes  # start-up: only a worker process needs it

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _protect_months(run: list[str], parts: dict[str, pl.DataFrame], arcs: pl.DataFrame,
                    n_nodes: dict[str, int], threshold: int, sums: dict[str, tuple[str, ...]],
                    carried: tuple[str, dict] | None, lead: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Protect `run`'s months one after another (the lead-in month first, for its
    pattern only): each month on its own, the exit family fixed to the pattern of
    'unemployed' in the month before. Returns the cell rows and their flags."""
    rows_out, hidden_out = [], []
    for month in [*lead, *run]:
        with _no_cyclic_gc():
            block = _Block(parts[month], arcs.filter(pl.col("month") == month),
                           n_nodes.get(month, 1), threshold, sums)
            block.protect(exclude=EXIT_FAMILY)
            fixed = None
            if carried is not None and carried[0] == shift_month(month, -1):
                fixed = carried[1]
            if month in lead:  # only 'unemployed' is carried, and the exit family is not in it
                carried = (month, block.pattern("unemployed"))
                continue
            block.protect(only=EXIT_FAMILY, fixed=fixed)
            rows, hidden = block.flags()
            rows_out.append(rows)
            hidden_out.append(hidden)
            carried = (month, block.pattern("unemployed"))
    return np.concatenate(rows_out), np.concatenate(hidden_out)


@contextlib.contextmanager
def _no_cyclic_gc():
    """Python's cycle collector paused while a month is protected: a month allocates
    hundreds of thousands of small tuples and dicts (moves, closures, caches), none of
    them in cycles, and the collector's repeated passes over them cost 15-20 % of the
    CPU time. Reference counting still frees everything; the previous state returns
    afterwards."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _unemployed_pattern(previous: pl.DataFrame) -> tuple[str, dict]:
    """(month, {(area_type, area_code, population, group): suppressed}) of the latest
    month of ``previous`` (the protected cells of the month before the input)."""
    month = previous.get_column("month").max()
    rows = previous.filter((pl.col("month") == month) & (pl.col("measure") == "unemployed"))
    keys = zip(rows["area_type"], rows["area_code"], rows["population"], rows["group"],
               strict=True)
    return month, dict(zip(keys, rows["suppressed"].fill_null(False), strict=True))


class _Block:
    """One month: every slice's cells on the month's area network, as dense arrays.

    ``V[s, a]`` value of slice s in area a; ``present`` it has a value; ``free`` an area
    total with members but no value (unknown, not a secret); ``H`` hidden; ``F`` fixed
    (its pattern is given: unemployed_previous_month from the month before).
    """

    def __init__(self, part: pl.DataFrame, arcs: pl.DataFrame, n_nodes: int,
                 threshold: int, sums: dict[str, tuple[str, ...]]):
        self.threshold, self.sums, self.n_nodes = threshold, sums, n_nodes
        computable = part.group_by("population", "group", "measure").agg(
            pl.col("value").is_not_null().any().alias("_any"))
        part = part.join(computable, on=["population", "group", "measure"]).filter("_any")
        distinct = part.select("population", "group", "measure").unique()
        self.slices: list[Slice] = sorted(zip(*(distinct[c].to_list() for c in distinct.columns),
                                              strict=True))
        areas = pl.concat([
            arcs.select("area_type", "area_code", "tail", "head"),
            part.select("area_type", "area_code").unique()
            .join(arcs.select("area_type", "area_code"), on=["area_type", "area_code"],
                  how="anti")
            .with_columns(tail=pl.lit(-1, pl.Int64), head=pl.lit(-1, pl.Int64)),
        ], how="vertical_relaxed").sort("area_type", "area_code")
        self.area_keys = list(zip(areas["area_type"].to_list(), areas["area_code"].to_list(),
                                  strict=True))
        self.tail = areas["tail"].cast(pl.Int64).to_numpy()
        self.head = areas["head"].cast(pl.Int64).to_numpy()
        self.isolated = self.tail < 0
        shape = (len(self.slices), len(self.area_keys))
        slice_frame = pl.DataFrame(
            {"population": [x[0] for x in self.slices], "group": [x[1] for x in self.slices],
             "measure": [x[2] for x in self.slices]},
            schema={"population": pl.String, "group": pl.String, "measure": pl.String},
        ).with_row_index("_s")
        area_frame = areas.select("area_type", "area_code").with_row_index("_a")
        located = (part.join(slice_frame, on=["population", "group", "measure"])
                   .join(area_frame, on=["area_type", "area_code"]))
        s_idx = located["_s"].cast(pl.Int64).to_numpy()
        a_idx = located["_a"].cast(pl.Int64).to_numpy()
        self.V = np.zeros(shape, dtype=np.int64)
        self.row = np.full(shape, -1, dtype=np.int64)
        has_value = np.zeros(shape, dtype=bool)
        self.row[s_idx, a_idx] = located["_row"].cast(pl.Int64).to_numpy()
        self.V[s_idx, a_idx] = located["value"].fill_null(0).to_numpy()
        has_value[s_idx, a_idx] = located["value"].is_not_null().to_numpy()
        is_area = np.array([t != "municipality" for t, _ in self.area_keys], dtype=bool)
        # an area total without a value is unknown; a municipality without one is a
        # known nothing (the roll-up makes whole slices null, so only malformed input)
        self.free = ~has_value & is_area[None, :] & ~self.isolated[None, :]
        self.present = ~self.free
        self.H = np.zeros(shape, dtype=bool)
        self.F = np.zeros(shape, dtype=bool)
        self.rank = np.arange(len(self.area_keys))
        self.weight = np.array([AREA_COST_WEIGHT.get(t, 1.0) for t, _ in self.area_keys])
        self.uncertified = 0
        self.stranded = 0

    # -- units, riders and relations ---------------------------------------------
    def _structure(self, allowed: set[int]) -> None:
        """Units (slices equal by definition move as one), riders (sum measures, hidden
        where a part is) and the relations between units with their complements."""
        index = {s: i for i, s in enumerate(self.slices)}
        totals = set(self.sums)
        self.riders = {i for i in allowed if self.slices[i][2] in totals}
        parent = {i: i for i in allowed}

        def find(i):
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        rels = []
        for terms, exact in linked_relations(self.slices, self.sums):
            idx = {index[s]: c for s, c in terms.items()}
            if not set(idx) <= allowed or set(idx) & self.riders:
                continue
            exact = exact or (len(idx) == 2 and self._zero_everywhere(idx))
            if exact and len(idx) == 2:
                a, b = sorted(idx)
                if (np.array_equal(self.V[a], self.V[b])
                        and np.array_equal(self.present[a], self.present[b])):
                    parent[find(b)] = find(a)
                    continue
                exact = False  # the data do not obey it: an ordinary nest here
            rels.append((idx, exact))
        self.unit_of = {i: find(i) for i in allowed if i not in self.riders}
        self.units = sorted(set(self.unit_of.values()))
        self.members = {u: [i for i in sorted(self.unit_of) if self.unit_of[i] == u]
                        for u in self.units}
        self.unit_size = np.zeros(len(self.slices), dtype=np.int64)
        self.member_start = np.zeros(len(self.slices), dtype=np.int64)
        self.member_stop = np.zeros(len(self.slices), dtype=np.int64)
        flat: list[int] = []
        for u in self.units:
            self.member_start[u] = len(flat)
            flat += self.members[u]
            self.member_stop[u] = len(flat)
            self.unit_size[u] = len(self.members[u])
        self.member_flat = np.array(flat, dtype=np.int64)
        self.rel_terms, exact_flags = [], []
        for idx, exact in rels:
            terms: dict[int, int] = {}
            for i, c in idx.items():
                u = self.unit_of[i]
                terms[u] = terms.get(u, 0) + c
            terms = {u: c for u, c in terms.items() if c}
            if len(terms) >= 2 or (terms and not exact):
                self.rel_terms.append(terms)
                exact_flags.append(exact)
        self.rel_exact = np.array(exact_flags, dtype=bool)
        n_areas = len(self.area_keys)
        self.X = np.zeros((len(self.rel_terms), n_areas), dtype=np.int64)
        self.X_valid = np.ones((len(self.rel_terms), n_areas), dtype=bool)
        self.rel_coef: dict[int, list[tuple[int, int]]] = {u: [] for u in self.units}
        for r, terms in enumerate(self.rel_terms):
            for u, c in terms.items():
                self.X[r] += c * self.V[u]
                self.X_valid[r] &= self.present[u]
                self.rel_coef[u].append((r, c))
        bad = self.X_valid & (self.X < 0)
        if bad.any():
            r, a = np.argwhere(bad)[0]
            names = {self.slices[u]: c for u, c in self.rel_terms[r].items()}
            raise DisclosureError(
                f"protect: cells break the relation {names} (complement "
                f"{self.X[r, a]} < 0) in {self.area_keys[a]} of {self.slices[0]}")
        self._closures: dict = {}
        self._capacities: dict = {}
        self._capacity_index: dict = {}
        self._capacity_up = self._capacity_down = None
        self._arcs = None
        self._rows_cache: dict = {}
        self._levels: dict = {}
        self._must_change: dict = {}
        self._parallel = None
        self.exposure: dict = {}  # move -> (where unknown, exposed there): _UnitGrid._exposed
        # plain lists for the scalar look-ups of the closures (numpy scalars are slow)
        self._V_l, self._free_l, self._F_l = self.V.tolist(), self.free.tolist(), self.F.tolist()
        self._X_l, self._X_valid_l = self.X.tolist(), self.X_valid.tolist()
        self._exact_l = self.rel_exact.tolist()
        # [area][relation]: how far the complement can fall there (-1: not at all, for
        # an exact relation or one with a term unknown there)
        self._room = np.where(self.X_valid & ~self.rel_exact[:, None], self.X, -1).T.tolist()
        self._movable_l = (self.free | ((self.V >= 1) & ~self.F)).tolist()
        self._unit_size_l = self.unit_size.tolist()

    def _zero_everywhere(self, terms: dict[int, int]) -> bool:
        """The relation's complement is 0 in every area of the month: in these data the
        relation is an identity, and a move keeps it so (else a move rising in one area
        could fall nowhere, and its cycle would climb to the country)."""
        rows = list(terms)
        if not self.present[rows].all():
            return False
        return not (np.array([terms[i] for i in rows]) @ self.V[rows]).any()

    def hide_cells(self, units: np.ndarray, areas: np.ndarray) -> None:
        """Hide unit cells (units[i], areas[i]), every member slice of each, not free ones."""
        if not units.size:
            return
        count = self.member_stop[units] - self.member_start[units]
        slices = self.member_flat[_ranges(self.member_start[units], self.member_stop[units])]
        areas = np.repeat(areas, count)
        keep = ~self.free[slices, areas]
        self.H[slices[keep], areas[keep]] = True

    # -- moves -------------------------------------------------------------------
    def _movable(self, u: int, a: int) -> bool:
        """Can (u, a) be part of a move: unknown already, or hideable (positive, not fixed).
        (Independent of the hidden pattern: hidden cells are positive or fixed.)
        ``_movable_l`` is the first two (fixed for a pass), read inline in the loops."""
        return self._movable_l[u][a] or bool(self.H[u, a])

    def closure(self, u: int, a: int, need: int) -> dict[int, int] | None:
        """The units moving with a change of ``need`` in (u, a), as +1 / -1 of one move:
        u rising (or falling, if that takes fewer units). A relation whose complement
        would fall below 0 takes in its parent or, failing that, a sibling that can give
        ``need``. None if impossible.
        """
        key = (u, a, need)
        try:
            return self._closures[key]
        except KeyError:
            rise = self._closure(u, a, need, 1)
            fall = (self._closure(u, a, need, -1)
                    if self._free_l[u][a] or self._V_l[u][a] - 1 >= need else None)
            if rise is None or fall is None:
                found = rise if fall is None else fall
            else:  # the move hiding the least published value here (ties: fewer units, rise)
                value, hidden = self._V_l, self.H
                cost = [(sum(value[t][a] for t in w if not hidden[t, a]), len(w), i)
                        for i, w in enumerate((rise, fall))]
                found = (rise, fall)[min(cost)[2]]
            self._closures[key] = found
        return found

    def _closure(self, u: int, a: int, need: int, sign: int) -> dict[int, int] | None:
        """The closure of u moving by ``sign`` (a fall is the rise of -u)."""
        w = {u: sign}
        k = {r: c * sign for r, c in self.rel_coef[u]}
        exact, room = self._exact_l, self._room[a]
        # the relations the move breaks, kept up to date as units join (only theirs change)
        broken = {r for r, kr in k.items()
                  if (kr < 0 and room[r] < need * -kr) or (kr > 0 and exact[r])}
        result = None
        for _ in range(64):
            if not broken:
                result = w
                break
            blocked = min(broken)  # the first relation (in relation order) the move breaks
            add = self._fix(blocked, k[blocked], w, a, need)
            if add is None:
                break
            t, sign = add
            w[t] = sign
            for r, c in self.rel_coef[t]:
                kr = k[r] = k.get(r, 0) + c * sign
                if (kr < 0 and room[r] < need * -kr) or (kr > 0 and exact[r]):
                    broken.add(r)
                else:
                    broken.discard(r)
        return result

    def _fix(self, r: int, k: int, w: dict[int, int], a: int, need: int):
        """The term that repairs relation r: the smallest movable one that can rise,
        else the largest that can give ``need`` (ties by unit)."""
        terms = self.rel_terms[r]
        value, free, movable, hidden = self._V_l, self._free_l, self._movable_l, self.H
        raise_sign = 1 if k < 0 else -1  # the coefficient whose rise moves k towards 0
        grow = [(value[t][a], t) for t, c in terms.items()
                if t not in w and c * raise_sign > 0 and (movable[t][a] or hidden[t, a])]
        if grow:
            return min(grow)[1], 1
        shrink = [(value[t][a], t) for t, c in terms.items()
                  if t not in w and c * raise_sign < 0 and (movable[t][a] or hidden[t, a])
                  and (free[t][a] or value[t][a] - 1 >= need)]
        if shrink:
            return max(shrink)[1], -1
        return None

    def capacities_of_move(self, w: tuple, need: int) -> tuple[np.ndarray, np.ndarray]:
        """``capacities`` of a move given as its sorted (unit, sign) tuple."""
        cached = self._capacities.get((w, need))
        return cached if cached is not None else self.capacities(dict(w), need)

    def grid_arcs(self, m: int, areas: np.ndarray) -> tuple[np.ndarray, ...]:
        """(net, area, tail, head) of the arcs of ``m`` moves' networks side by side over
        ``areas`` (the network's, the same every round), the move's nodes offset by
        net x n_nodes: the first m networks of a table kept for the next rounds."""
        if self._arcs is None or self._arcs[0].size < m * areas.size:
            size = max(m, 64) * 5 // 4
            offset = np.arange(size, dtype=np.int64)[:, None] * self.n_nodes
            self._arcs = (np.repeat(np.arange(size), areas.size), np.tile(areas, size),
                          (self.tail[areas] + offset).ravel(), (self.head[areas] + offset).ravel())
        return tuple(column[:m * areas.size] for column in self._arcs)

    def capacity_table(self, moves: list[tuple], areas: np.ndarray
                       ) -> tuple[np.ndarray, np.ndarray]:
        """[move, area]: ``capacities`` of ``moves`` over ``areas`` (the network's, the
        same every round). Each move's rows are worked out once and kept in one table:
        the same moves come back round after round."""
        index = self._capacity_index
        new = [move for move in moves if move not in index]
        if new:
            caps = [self.capacities_of_move(*move) for move in new]
            up = np.stack([u[areas] for u, _ in caps])
            down = np.stack([d[areas] for _, d in caps])
            for move in new:
                index[move] = len(index)
            if self._capacity_up is not None:
                up = np.concatenate([self._capacity_up, up])
                down = np.concatenate([self._capacity_down, down])
            self._capacity_up, self._capacity_down = up, down
        rows = np.fromiter((index[move] for move in moves), np.int64, len(moves))
        return self._capacity_up[rows], self._capacity_down[rows]

    def capacities(self, w: dict[int, int], need: int) -> tuple[np.ndarray, np.ndarray]:
        """Where the move w (units rising +1, giving way -1) can rise (forward) and fall
        (backward) by ``need``: every hidden unit stays >= 1, every complement >= 0."""
        key = (tuple(sorted(w.items())), need)
        if key not in self._capacities:
            rising = [u for u, sign in w.items() if sign > 0]
            falling = [u for u, sign in w.items() if sign < 0]
            k: dict[int, int] = {}
            for u, sign in w.items():
                for r, c in self.rel_coef[u]:
                    k[r] = k.get(r, 0) + c * sign
            if any(self._exact_l[r] for r, kr in k.items() if kr):
                up = np.zeros(len(self.area_keys), dtype=bool)
                down = up.copy()
            else:
                up = self._all_rows(self._keeps(need), falling)
                down = self._all_rows(self._keeps(need), rising)
                for level in sorted({abs(kr) for kr in k.values() if kr}):
                    spare = self._spare(need * level)
                    up &= self._all_rows(spare, [r for r, kr in k.items() if kr == -level])
                    down &= self._all_rows(spare, [r for r, kr in k.items() if kr == level])
            self._capacities[key] = (up, down)
        return self._capacities[key]

    def _keeps(self, need: int) -> np.ndarray:
        """[unit, area]: the unit can fall by ``need`` there (free, or stays >= 1)."""
        if ("keeps", need) not in self._levels:
            self._levels[("keeps", need)] = self.free | (need <= self.V - 1)
        return self._levels[("keeps", need)]

    def _spare(self, amount: int) -> np.ndarray:
        """[relation, area]: the complement can fall by ``amount`` and stay >= 0."""
        if ("spare", amount) not in self._levels:
            self._levels[("spare", amount)] = self.X_valid & (amount <= self.X)
        return self._levels[("spare", amount)]

    def _all_rows(self, table: np.ndarray, rows: list[int]) -> np.ndarray:
        if not rows:
            return np.ones(table.shape[1], dtype=bool)
        return table[rows].all(axis=0)

    # -- the protection of one pass ------------------------------------------------
    def protect(self, *, exclude=frozenset(), only=None, fixed: dict | None = None) -> None:
        chosen = {i for i, (_, _, m) in enumerate(self.slices)
                  if (m in only if only is not None else m not in exclude)}
        if not chosen:
            return
        if fixed is not None:
            self._fix_pattern(chosen, fixed)
        self._structure(chosen)
        units = np.array(self.units, dtype=np.int64)
        targets: dict[tuple[int, int], int] = {}
        if units.size:
            small = (self.present[units] & (self.V[units] >= 1)
                     & (self.V[units] < self.threshold) & ~self.F[units])
            row, area = np.nonzero(small)  # primary cells (present, so not free): hidden
            unit = units[row]
            count = self.member_stop[unit] - self.member_start[unit]
            members = self.member_flat[_ranges(self.member_start[unit], self.member_stop[unit])]
            self.H[members, np.repeat(area, count)] = True
            for u, a, value in zip(unit.tolist(), area.tolist(), self.V[unit, area].tolist(),
                                   strict=True):
                targets[(u, a)] = _need(self.threshold, value)
            self._complement_targets(targets)
            self._certify(targets)
        self._ride(chosen)

    def _ride(self, chosen: set[int]) -> None:
        """A sum measure is hidden exactly where one of its parts is (after the parts)."""
        index = {s: i for i, s in enumerate(self.slices)}
        for i in sorted(self.riders):
            population, group, measure = self.slices[i]
            parts = [index.get((population, group, p)) for p in self.sums[measure]]
            if any(p is None for p in parts):
                continue
            self.H[i] = np.logical_or.reduce([self.H[p] for p in parts]) & self.present[i]

    def _fix_pattern(self, chosen: set[int], fixed: dict) -> None:
        """unemployed_previous_month(t) keeps the pattern of unemployed(t-1)."""
        for s in chosen:
            population, group, measure = self.slices[s]
            if measure not in LINKED_MONTHS:
                continue
            for a, (area_type, area_code) in enumerate(self.area_keys):
                key = (area_type, area_code, population, group)
                if key in fixed and self.present[s, a]:
                    self.F[s, a] = True
                    self.H[s, a] = bool(fixed[key]) and self.V[s, a] >= 1

    def _complement_targets(self, targets: dict[tuple[int, int], int]) -> None:
        """A complement from 1 to threshold - 1 must move: a target on one of its terms
        (the smallest positive child, else the parent) whose move changes it."""
        small = ~self.rel_exact[:, None] & self.X_valid & (self.X >= 1) & (self.threshold > self.X)
        value, free, movable, hidden = self._V_l, self._free_l, self._movable_l, self.H
        for r, a in np.argwhere(small).tolist():
            terms = self.rel_terms[r]
            options = sorted((c > 0, value[t][a], t) for t, c in terms.items()
                             if (movable[t][a] or hidden[t, a]) and (free[t][a] or value[t][a] >= 1))
            for _, _, t in options:
                w = self.closure(t, a, 1)
                if w is not None and sum(terms.get(x, 0) * c for x, c in w.items()) != 0:
                    targets[(t, a)] = max(targets.get((t, a), 0), 1)
                    self._must_change.setdefault((t, a), []).append(r)
                    break
            else:
                self.uncertified += 1

    def ancestors(self, u: int, a: int, depth: int | None = None) -> dict[int, int]:
        """u and every unit containing it (parents in population, group and measure,
        recursively), all rising: a move that shrinks no complement (one more person of
        the least specific kind). Units with a fixed pattern are left out.

        Where a complement is 0 in area ``a`` (every jobseeker under 30 of a trial
        municipality is a trial customer), the person is one of its children too: one
        child rises with the parent, so the complement stays 0 and the move can fall
        elsewhere on the same side (else a trial-side move falls only in comparison
        municipalities, and its cycle hides all_trials and the comparison total)."""
        w = {u: 1}
        level = {u: 0}
        todo = deque([u])
        while todo:
            t = todo.popleft()
            for r, c in self.rel_coef[t]:
                terms = self.rel_terms[r]
                if c < 0 and depth is not None and level[t] >= depth:
                    continue  # no parents beyond `depth` steps up
                if c < 0:
                    grown = [p for p, cp in terms.items() if cp > 0]
                elif (self._X_valid_l[r][a] and self._X_l[r][a] == 0
                      and not any(p in w for p, cp in terms.items() if cp < 0)):
                    kids = sorted((self._V_l[p][a], p) for p, cp in terms.items()
                                  if cp < 0 and self._movable(p, a))
                    grown = [kids[-1][1]] if kids else []
                else:
                    grown = []
                for p in grown:
                    if p not in w and not self.F[p].any():
                        w[p] = 1
                        level[p] = level[t] + (c < 0)
                        todo.append(p)
        return w

    def _certify(self, targets: dict[tuple[int, int], int]) -> None:
        """Every target rises with its closure along a cycle of the closure's network;
        a target whose move a repair did not certify rises with its ancestors instead,
        one step of parents more each time it stays exposed, then all of them (a move
        that can always rise). Repeated until every target and every
        hidden cell lies on a usable cycle.

        A target's move is worked out once (closures are cached and the hidden pattern
        only grows, so a later round would find the same move and hide nothing new);
        a round works only the targets that are new or newly escalated, in key order.

        A round that starts in the state the last one started in (same hidden cells,
        targets, moves, escalations, repairs tried) repeats it, and so would every round
        left: the loop stops there, as it would after ``_MAX_ROUNDS`` (with the same
        counts of stranded repairs), instead of repeating it up to ``_MAX_ROUNDS``
        times (the exit family of a month whose pattern is fixed often ends so).
        """
        escalated: dict[tuple[int, int], int] = {}  # target -> ancestor depth
        repaired: set[tuple] = set()  # (move, area) exposed once: a repair was tried
        tried: set[tuple] = set()
        move_of: dict[tuple[int, int], tuple] = {}
        target_areas: dict[tuple, set[int]] = {}  # move -> areas where it is certified
        source: dict[tuple, set[tuple[int, int]]] = {}
        state = (targets, escalated, repaired, tried, move_of, target_areas, source)
        last, sizes_last = None, None  # the state at the start of the last round
        for _round in range(_MAX_ROUNDS):
            # the hidden cells and the sets only grow: the sizes say whether a round may
            # repeat the last one (then the states are compared)
            sizes = (int(self.H.sum()), sum(escalated.values()), *map(len, state))
            if sizes == sizes_last:
                now = (_snapshot(state), self.stranded)
                if last is not None and now[0] == last[0]:
                    self.stranded += (now[1] - last[1]) * (_MAX_ROUNDS - _round)
                    break
                last = now
            else:
                last = None
            sizes_last = sizes
            for (u, a) in sorted(targets.keys() - move_of.keys()):
                need = targets[(u, a)]
                depth = escalated.get((u, a))
                w = (self.ancestors(u, a, None if depth == ALL_ANCESTORS else depth)
                     if depth is not None else self.closure(u, a, need))
                if w is None and need > 1:
                    need, w = 1, self.closure(u, a, 1)
                if w is None:
                    need, w = 1, self.ancestors(u, a)
                    escalated[(u, a)] = ALL_ANCESTORS
                move = (tuple(sorted(w.items())), need)
                self._hide_units(move[0], a)
                move_of[(u, a)] = (move, a, escalated.get((u, a)))
                target_areas.setdefault(move, set()).add(a)
                source.setdefault((move, a), set()).add((u, a))
            grid = _UnitGrid(self, target_areas)
            exposed, uncovered = grid.audit()
            if not exposed.size and not uncovered:
                return
            if JOINT_MOVES:
                exposed = self._pair_with_siblings(grid, exposed, move_of, target_areas, source,
                                                   tried)
            for row in exposed:  # a move the last repair did not certify goes deeper
                key = (grid.nets[int(grid.net[row])], int(grid.area[row]))
                if key not in repaired:
                    repaired.add(key)
                    continue
                for target in source.get(key, ()):
                    escalated[target] = _deeper(escalated.get(target))
            for key in [k for k in escalated if k in move_of and move_of[k][2] != escalated[k]]:
                self._forget(key, move_of, target_areas, source)
            grid.repair(exposed)
            for key in uncovered:
                targets.setdefault(key, 1)
        self.uncertified += 1

    def _pair_with_siblings(self, grid, exposed, move_of, target_areas, source, tried):
        """Exposed moves that a sibling can balance: the move grows (``_joint``) until it
        can rise in its area and fall in a municipality on the same two nodes (same
        smallest trial-side area and region), and is hidden in both. The next audit
        certifies the two-arc cycle; returns the rows still to repair."""
        left = []
        for row, net, a in zip(exposed.tolist(), grid.net[exposed].tolist(),
                               grid.area[exposed].tolist(), strict=True):
            move = grid.nets[net]
            if (move, a) in tried or move[1] != 1 or (move, a) not in source:
                left.append(row)
                continue
            tried.add((move, a))
            keys = sorted(source[(move, a)])
            must = [r for key in keys for r in self._must_change.get(key, ())]
            found = self._sibling_move(dict(move[0]), a, must)
            if found is None:
                left.append(row)
                continue
            new, sibling = found
            new_move = (tuple(sorted(new.items())), 1)
            for key in keys:
                self._forget(key, move_of, target_areas, source)
                move_of[key] = (new_move, a, False)
                target_areas.setdefault(new_move, set()).add(a)
                source.setdefault((new_move, a), set()).add(key)
            tried.add((new_move, a))
            self._hide_units(new_move[0], a)
            self._hide_units(new_move[0], sibling)
        return np.array(left, dtype=np.int64)

    def _sibling_move(self, w: dict[int, int], a: int, must: list[int]):
        """(move, sibling): the cheapest joint move of ``w`` rising in ``a`` and falling
        in a parallel sibling; None if none exists."""
        best = None
        siblings = self._likely_siblings(w, a)
        k = self._joint_start(w, a) if siblings else None
        if k is None:
            return None
        value, size, hidden, terms = self._V_l, self._unit_size_l, self.H, self.rel_terms
        for b in siblings:
            joint = self._joint(w, a, b, k)
            if joint is None or any(
                    sum(terms[r].get(t, 0) * c for t, c in joint.items()) == 0 for r in must):
                continue
            cost = sum(value[t][x] * size[t] for t in joint for x in (a, b)
                       if not hidden[t, x])
            if best is None or (cost, b) < best[0]:
                best = ((cost, b), joint, b)
        return None if best is None else (best[1], best[2])

    def _likely_siblings(self, w: dict[int, int], a: int) -> list[int]:
        """The siblings of ``a`` where ``w`` itself can fall (its rising units >= 2 or
        free, all movable), the ``_SIBLINGS_TRIED`` cheapest (value of ``w`` hidden)."""
        value, free, movable, hidden = self._V_l, self._free_l, self._movable_l, self.H
        ranked = []
        for b in self._siblings(a):
            cost = 0
            for u, sign in w.items():
                if not (movable[u][b] or hidden[u, b]) or (
                        sign > 0 and not (free[u][b] or value[u][b] >= 2)):
                    break
                if not (free[u][b] or hidden[u, b]):
                    cost += value[u][b]
            else:
                ranked.append((cost, b))
        return [b for _, b in sorted(ranked)[:_SIBLINGS_TRIED]]

    def _siblings(self, a: int) -> list[int]:
        """The other areas on the same two nodes as ``a`` (kept per area)."""
        if self._parallel is None:
            groups: dict[tuple[int, int], list[int]] = {}
            for x in np.flatnonzero(~self.isolated).tolist():
                groups.setdefault((int(self.tail[x]), int(self.head[x])), []).append(x)
            self._parallel = {x: [y for y in group if y != x]
                              for group in groups.values() for x in group}
        return self._parallel.get(a, [])

    def _joint_start(self, w: dict[int, int], a: int) -> dict[int, int] | None:
        """The change of every relation's complement under ``w``; None if ``w`` itself
        cannot rise in area a (a unit not movable there, or one giving way below 2). The
        sibling's side of ``w`` is what ``_likely_siblings`` checked."""
        value, free, movable, hidden = self._V_l, self._free_l, self._movable_l, self.H
        for t, sign in w.items():
            if not (movable[t][a] or hidden[t, a]) or (
                    sign < 0 and not (free[t][a] or value[t][a] >= 2)):
                return None
        k: dict[int, int] = {}
        for t, sign in w.items():
            for r, c in self.rel_coef[t]:
                k[r] = k.get(r, 0) + c * sign
        return k

    def _joint(self, w: dict[int, int], a: int, b: int, k: dict[int, int]
               ) -> dict[int, int] | None:
        """``w`` plus the units that let it rise by 1 in area a and fall by 1 in area b:
        every unit movable in both, a unit falling keeps >= 1, every complement >= 0.
        ``k``: ``_joint_start(w, a)``; b: one of ``_likely_siblings(w, a)``."""
        w, k = dict(w), dict(k)
        value, free, movable, hidden = self._V_l, self._free_l, self._movable_l, self.H
        room_a, room_b = self._room[a], self._room[b]
        # the relations the move breaks, kept up to date as units join (only theirs change)
        broken = {r for r, kr in k.items()
                  if (kr < 0 and room_a[r] < -kr) or (kr > 0 and room_b[r] < kr)}
        for _ in range(64):
            if not broken:
                return w
            r = min(broken)  # the first relation (in relation order) the move breaks
            kr = k[r]
            options = []
            for t, c in self.rel_terms[r].items():
                if t in w:
                    continue
                sign = -1 if c * kr > 0 else 1  # moves k towards 0
                falls_at = b if sign > 0 else a
                if ((movable[t][a] or hidden[t, a]) and (movable[t][b] or hidden[t, b])
                        and (free[t][falls_at] or value[t][falls_at] >= 2)):
                    options.append((sign < 0, value[t][a] + value[t][b], t, sign))
            if not options:
                return None
            _, _, t, sign = min(options)
            w[t] = sign
            for r, c in self.rel_coef[t]:
                kr = k[r] = k.get(r, 0) + c * sign
                if (kr < 0 and room_a[r] < -kr) or (kr > 0 and room_b[r] < kr):
                    broken.add(r)
                else:
                    broken.discard(r)
        return None

    @staticmethod
    def _forget(key, move_of, target_areas, source) -> None:
        """A target escalated: its old move leaves the certified moves (unless another
        target still uses it); the next round works it again."""
        move, a, _ = move_of.pop(key)
        sharing = source[(move, a)]
        sharing.discard(key)
        if not sharing:
            del source[(move, a)]
            target_areas[move].discard(a)
            if not target_areas[move]:
                del target_areas[move]

    def _hide_units(self, w: tuple, a: int) -> None:
        """Hide the cells of the units of move ``w`` in area ``a`` (not free ones)."""
        hidden, free = self.H, self._free_l
        for row in self._move_rows(w):
            if not free[row][a]:
                hidden[row, a] = True

    def _move_rows(self, w: tuple) -> list[int]:
        rows = self._rows_cache.get(w)
        if rows is None:
            rows = [s for u, _ in w for s in self.members[u]]
            self._rows_cache[w] = rows
        return rows

    def flags(self) -> tuple[np.ndarray, np.ndarray]:
        mask = self.row >= 0
        return self.row[mask], self.H[mask]

    def pattern(self, measure: str) -> dict:
        out = {}
        for s, (population, group, m) in enumerate(self.slices):
            if m != measure:
                continue
            for a, (area_type, area_code) in enumerate(self.area_keys):
                if self.row[s, a] >= 0:
                    out[(area_type, area_code, population, group)] = bool(self.H[s, a])
        return out


class _UnitGrid:
    """The networks of some moves side by side, one arc per area.

    A move is a set of units rising (+1) or giving way (-1) together by its need. Its
    arc in area a is unknown when every unit of the move is hidden (or free) there; it
    can be walked forward or backward where the move can rise or fall
    (``_Block.capacities``); hiding it costs the published values it would hide.
    Everything is computed for all moves at once over the (move, unit) pairs.
    """

    def __init__(self, block: _Block, target_areas: dict[tuple, set[int]]):
        self.block = block
        moves = set(target_areas)
        covered_units = {u for w, _ in moves for u, _ in w}
        hidden_somewhere = block.H[:, ~block.isolated].any(axis=1)
        moves |= {(((u, 1),), 1) for u in block.units
                  if u not in covered_units and hidden_somewhere[u]}
        self.nets = sorted(moves)
        in_net = np.flatnonzero(~block.isolated)
        self.areas, self.n_a = in_net, in_net.size
        self.position = np.full(len(block.area_keys), -1, dtype=np.int64)
        self.position[in_net] = np.arange(in_net.size)
        m = len(self.nets)
        self.net, self.area, self.tail, self.head = block.grid_arcs(m, in_net)
        lengths = np.array([len(w) for w, _ in self.nets], dtype=np.int64)
        self.pair_start = np.r_[0, np.cumsum(lengths)[:-1]].astype(np.int64)
        self.pair_net = np.repeat(np.arange(m), lengths)
        self.pair_unit = np.array([u for w, _ in self.nets for u, _ in w], dtype=np.int64)
        if m == 0:
            empty = np.zeros(0, dtype=bool)
            self.fwd = self.bwd = self.unknown = self.candidate = empty
            self.cost = np.zeros(0, dtype=np.float64)
        else:
            up, down = block.capacity_table(self.nets, in_net)
            self.fwd, self.bwd = up.ravel(), down.ravel()
            # per unit (slice) first, then summed over each move's units by a (move x
            # unit) incidence product: counts of hidden / usable units, costs
            hid_u = block.H[:, in_net] | block.free[:, in_net]
            value_u = block.V[:, in_net]
            ok_u = hid_u | ((value_u >= 1) & ~block.F[:, in_net])
            published_u = np.where(hid_u, 0, value_u * block.unit_size[:, None])
            sparse, _ = _graph_tools()
            incidence = sparse.csr_matrix(
                (np.ones(self.pair_unit.size, np.int32), self.pair_unit,
                 np.r_[0, np.cumsum(lengths)]), shape=(m, hid_u.shape[0]))
            n_units = lengths[:, None]
            unknown = (incidence @ hid_u.astype(np.int32)) == n_units
            self.unknown = unknown.ravel()
            self.candidate = (((incidence @ ok_u.astype(np.int32)) == n_units)
                              & ~unknown).ravel()
            self.cost = ((incidence.astype(np.int64) @ published_u)
                         * block.weight[in_net]).ravel()
        nets, areas = [], []
        for j, move in enumerate(self.nets):
            where = target_areas.get(move)
            if where:
                nets += [j] * len(where)
                areas += where
        position = self.position[np.array(areas, dtype=np.int64)]
        on_net = position >= 0
        is_target = np.zeros((m, self.n_a), dtype=bool)
        is_target[np.array(nets, dtype=np.int64)[on_net], position[on_net]] = True
        self.targets = np.flatnonzero(is_target)  # sorted, each row once

    def _pairs_of_rows(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(unit, area) of every unit of the move of each grid row."""
        net = self.net[rows]
        count = np.r_[self.pair_start[1:], self.pair_unit.size][net] - self.pair_start[net]
        pairs = _ranges(self.pair_start[net], self.pair_start[net] + count)
        return self.pair_unit[pairs], np.repeat(self.area[rows], count)

    def audit(self) -> tuple[np.ndarray, list[tuple[int, int]]]:
        """(exposed target rows, hidden unit cells that no certified move moves)."""
        b = self.block
        if not self.tail.size:
            return self.targets, []
        exposed = self._exposed()
        exposed_targets = self.targets[exposed[self.targets]]
        covered = np.zeros_like(b.H)
        ok = (self.unknown & ~exposed).reshape(len(self.nets), self.n_a)
        sparse, _ = _graph_tools()  # (unit x move) incidence: a unit is covered by any move
        incidence = sparse.csr_matrix(
            (np.ones(self.pair_unit.size, np.int32), (self.pair_unit, self.pair_net)),
            shape=(b.H.shape[0], len(self.nets)))
        covered[:, self.areas] = (incidence @ ok.astype(np.int32)) > 0
        covered[:, b.isolated] = True  # an isolated cell moves alone (no area relation)
        loose = np.zeros_like(b.H)
        units = np.array(b.units, dtype=np.int64)
        if units.size:
            loose[units] = b.H[units] & ~covered[units] & ~b.F[units] & ~b.free[units]
        unit, area = np.nonzero(loose)
        return exposed_targets, list(zip(unit.tolist(), area.tolist(), strict=True))

    def _exposed(self) -> np.ndarray:
        """Mask of the rows whose move's value there the attacker can pin.

        A move's answer depends only on the move (its arcs and capacities) and on where
        it is unknown, and the moves' networks are disjoint: a move whose unknown arcs
        are those of its last audit keeps that answer (``_Block.exposure``), and only
        the others are audited, together (most moves do not change between rounds).
        """
        known = self.block.exposure
        unknown = self.unknown.reshape(len(self.nets), self.n_a)
        keys = [row.tobytes() for row in unknown]
        exposed = np.zeros((len(self.nets), self.n_a), dtype=bool)
        todo = []
        for j, move in enumerate(self.nets):
            last = known.get(move)
            if last is not None and last[0] == keys[j]:
                exposed[j] = last[1]
            else:
                todo.append(j)
        if todo:
            nets = np.array(todo, dtype=np.int64)
            rows = _ranges(nets * self.n_a, (nets + 1) * self.n_a)
            found = _Network(self.tail[rows], self.head[rows], np.zeros(rows.size, np.int64),
                             np.zeros(rows.size, bool), self.unknown[rows],
                             forward=self.fwd[rows], backward=self.bwd[rows]).exposed()
            exposed[nets] = found.reshape(nets.size, self.n_a)
            for j in todo:
                known[self.nets[j]] = (keys[j], exposed[j])
        return exposed.ravel()

    def repair(self, exposed: np.ndarray) -> None:
        """Cheapest cycles through the exposed rows, hidden. The search graph holds only
        the networks of the exposed moves (in later rounds a few of hundreds): the
        networks are disjoint and keep their node ids, so each search scans exactly
        the edges it would scan in the graph of every move."""
        if not exposed.size:
            return
        nets = np.unique(self.net[exposed])
        rows = _ranges(nets * self.n_a, (nets + 1) * self.n_a)
        local = np.full(self.tail.size, -1, dtype=np.int64)
        local[rows] = np.arange(rows.size)
        rank = np.tile(self.block.rank[self.areas], nets.size)
        paths = _CyclePaths(self.net[rows], self.tail[rows], self.head[rows],
                            np.zeros(rows.size, np.int64), np.zeros(rows.size, bool),
                            self.candidate[rows], rank, self.unknown[rows],
                            forward=self.fwd[rows], backward=self.bwd[rows],
                            cost=self.cost[rows])
        for layer in _one_per_slice(exposed, self.net):
            chosen = rows[np.asarray(paths.close(local[layer]), dtype=np.int64)]
            self.block.hide_cells(*self._pairs_of_rows(chosen))
            self.block.stranded += paths.stranded.size


def _snapshot(state: tuple) -> tuple:
    """A copy of ``_certify``'s state (dicts, sets, dicts of sets) to compare rounds."""
    return tuple(
        {k: frozenset(v) if isinstance(v, set) else v for k, v in part.items()}
        if isinstance(part, dict) else frozenset(part) for part in state)


def _deeper(depth: int | None) -> int:
    """The next ancestor depth of an escalated target that is still exposed: one more
    step of parents at a time (a move with fewer parents hides fewer large totals), all
    of them (``ALL_ANCESTORS``) after ``_ESCALATE_DEPTHS``."""
    if depth is None:
        return 1
    return (ALL_ANCESTORS if depth == ALL_ANCESTORS or depth >= _ESCALATE_DEPTHS
            else depth + 1)


def _concat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)


UPPER_PROTECTION = False
# Exposed moves first try a sibling municipality on the same two nodes (a two-arc cycle
# low in the hierarchy) before a repair path (docs/disclosure.md, "Joint moves").
JOINT_MOVES = True
_SIBLINGS_TRIED = 4


def _need(threshold: int, value: int) -> int:
    return threshold - value if UPPER_PROTECTION else 1
