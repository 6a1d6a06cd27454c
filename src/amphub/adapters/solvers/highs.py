"""The planner's LP solved by HiGHS, by exact column generation.

A car plugged in for ten hours that needs two hours of charging will, at the optimum, charge
in a handful of its slots; giving the LP every slot of every car makes it five to ten times
larger than it needs to be. So each car starts with its cheapest slots (a few times what it
needs, by price), HiGHS solves that restricted LP, and every left-out slot is priced with
the duals: a slot whose reduced cost ``c_j − a_jᵀy`` is negative would lower the cost, so it
is added and the LP solved again. When none is negative the restricted optimum is the
optimum of the whole LP (the LP optimality conditions hold for every column) — the answer is
exact, not a heuristic. Circuit rows that cannot bind with the columns in play (their
members' maxima fit the limit) are left out, which is safe for the same reason.

The matrices are built with numpy from the domain's columnar formulation, without a Python
loop per non-zero. Columns: the x columns session by session (``problem.offsets()``), then
one shortfall column per session. Rows: one energy row per session, then circuit rows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from amphub.domain.planning.problem import PlanningProblem, Solution

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]

REDUCED_COST_TOLERANCE = 1e-9
INITIAL_SLOT_FACTOR = 2
INITIAL_SLOT_EXTRA = 4


@dataclass(frozen=True, slots=True)
class Columns:
    """Every x column of the full LP: its session, slot, kWh per A and cost per A."""

    session: Ints
    slot: Ints
    energy: Floats
    cost: Floats
    upper: Floats
    circuit_col: Ints
    """Circuit non-zeros of the full LP: column ..."""
    circuit_row: Ints
    """... and its circuit row, ``circuit * n_slots + slot``."""
    circuit_limit: Floats
    """Per circuit row: its limit (A)."""


def columns(problem: PlanningProblem) -> Columns:
    first = np.asarray(problem.first_slot, dtype=np.int64)
    lengths = np.asarray(problem.end_slot, dtype=np.int64) - first
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    session = np.repeat(np.arange(len(first)), lengths)
    slot = np.arange(offsets[-1]) - offsets[session] + first[session]
    n_slots = problem.grid.count
    hours = np.asarray(problem.grid.hours())
    prices = np.asarray(problem.price_per_kwh) + problem.earliness_per_kwh * np.arange(n_slots)
    energy = np.asarray(problem.kw_per_a)[session] * hours[slot]
    circuit_cols = []
    circuit_rows = []
    for c, circuit in enumerate(problem.circuits):
        if not circuit.members:
            continue
        cols = np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in circuit.members])
        circuit_cols.append(cols)
        circuit_rows.append(c * n_slots + slot[cols])
    empty = np.zeros(0, dtype=np.int64)
    return Columns(
        session=session,
        slot=slot,
        energy=energy,
        cost=energy * prices[slot],
        upper=np.asarray(problem.max_a, dtype=np.float64)[session],
        circuit_col=np.concatenate(circuit_cols) if circuit_cols else empty,
        circuit_row=np.concatenate(circuit_rows) if circuit_rows else empty,
        circuit_limit=np.concatenate([np.asarray(c.limit_a) for c in problem.circuits])
        if problem.circuits
        else np.zeros(0),
    )


def initial_columns(problem: PlanningProblem, cols: Columns) -> Mask:
    """Per session, its cheapest slots: a few times as many as it needs at full current."""
    full_kwh = np.asarray(problem.max_a) * np.asarray(problem.kw_per_a) * problem.grid.minutes / 60
    needed = np.ceil(np.asarray(problem.need_kwh) / np.maximum(full_kwh, 1e-9))
    keep = INITIAL_SLOT_FACTOR * needed + INITIAL_SLOT_EXTRA
    order = np.lexsort((cols.slot, cols.cost / np.maximum(cols.energy, 1e-12), cols.session))
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order))
    starts = np.searchsorted(cols.session[order], np.arange(problem.n_sessions))
    rank = position - starts[cols.session]
    mask: Mask = rank < keep[cols.session]
    return mask


@dataclass(frozen=True, slots=True)
class RestrictedLp:
    active: Ints
    """Full-LP column of each x column here."""
    circuit_rows: Ints
    """Full-LP circuit row of each circuit row here."""
    lp: highspy.HighsLp


def restricted(problem: PlanningProblem, cols: Columns, mask: Mask) -> RestrictedLp:
    n_sessions = problem.n_sessions
    active = np.flatnonzero(mask)
    n_x = len(active)
    local = np.full(len(mask), -1, dtype=np.int64)
    local[active] = np.arange(n_x)
    # Circuit rows that can bind: the active members' maxima exceed the limit.
    in_play = mask[cols.circuit_col]
    entry_cols = local[cols.circuit_col[in_play]]
    entry_rows = cols.circuit_row[in_play]
    reach = np.bincount(
        entry_rows, weights=cols.upper[active][entry_cols], minlength=len(cols.circuit_limit)
    )
    binding = np.flatnonzero(reach > cols.circuit_limit + 1e-9)
    row_of = np.full(len(cols.circuit_limit), -1, dtype=np.int64)
    row_of[binding] = n_sessions + np.arange(len(binding))
    kept = row_of[entry_rows] >= 0
    col = np.concatenate((np.arange(n_x), entry_cols[kept], np.arange(n_x, n_x + n_sessions)))
    row = np.concatenate((cols.session[active], row_of[entry_rows[kept]], np.arange(n_sessions)))
    value = np.concatenate((cols.energy[active], np.ones(int(kept.sum())), np.ones(n_sessions)))
    order = np.lexsort((row, col))
    counts = np.bincount(col, minlength=n_x + n_sessions)
    need = np.asarray(problem.need_kwh, dtype=np.float64)
    lp = highspy.HighsLp()
    lp.num_col_ = n_x + n_sessions
    lp.num_row_ = n_sessions + len(binding)
    lp.col_cost_ = np.concatenate(
        (cols.cost[active], np.full(n_sessions, problem.shortfall_per_kwh))
    )
    lp.col_lower_ = np.zeros(n_x + n_sessions)
    lp.col_upper_ = np.concatenate((cols.upper[active], need))
    lp.row_lower_ = np.concatenate((need, np.full(len(binding), -highspy.kHighsInf)))
    lp.row_upper_ = np.concatenate((need, cols.circuit_limit[binding]))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    lp.a_matrix_.index_ = row[order].astype(np.int32)
    lp.a_matrix_.value_ = value[order]
    return RestrictedLp(active, binding, lp)


def reduced_costs(cols: Columns, model: RestrictedLp, row_dual: Floats, n_sessions: int) -> Floats:
    """``c_j − a_jᵀy`` of every x column of the full LP (rows left out have dual 0)."""
    circuit_dual = np.zeros(len(cols.circuit_limit))
    circuit_dual[model.circuit_rows] = row_dual[n_sessions:]
    priced = cols.cost - cols.energy * row_dual[:n_sessions][cols.session]
    np.subtract.at(priced, cols.circuit_col, circuit_dual[cols.circuit_row])
    return priced


class HighsSolver:
    """Implements :class:`amphub.application.planning.ports.Solver`."""

    def __init__(self, *, time_limit_s: float = 30.0, max_rounds: int = 50) -> None:
        self._time_limit_s = time_limit_s
        self._max_rounds = max_rounds
        self.last_build_s = 0.0
        self.last_solve_s = 0.0
        self.last_rounds = 0

    def solve(self, problem: PlanningProblem) -> Solution:
        began = time.perf_counter()
        build_s = 0.0
        cols = columns(problem)
        mask = initial_columns(problem, cols)
        build_s += time.perf_counter() - began
        n_sessions = problem.n_sessions
        values = np.zeros(len(mask) + n_sessions)
        status_text = "not solved"
        optimal = False
        objective = float("nan")
        rounds = 0
        while rounds < self._max_rounds:
            rounds += 1
            built_at = time.perf_counter()
            model = restricted(problem, cols, mask)
            build_s += time.perf_counter() - built_at
            highs = highspy.Highs()  # type: ignore[no-untyped-call]
            highs.setOptionValue("output_flag", False)
            highs.setOptionValue("time_limit", self._time_limit_s)
            highs.passModel(model.lp)
            highs.run()
            status = highs.getModelStatus()
            status_text = highs.modelStatusToString(status)
            if status != highspy.HighsModelStatus.kOptimal:
                optimal = False
                break
            solution = highs.getSolution()
            col_value = np.asarray(solution.col_value)
            priced = reduced_costs(cols, model, np.asarray(solution.row_dual), n_sessions)
            entering = ~mask & (priced < -REDUCED_COST_TOLERANCE * (1 + np.abs(cols.cost)))
            if not entering.any():
                values = np.zeros(len(mask) + n_sessions)
                values[model.active] = col_value[: len(model.active)]
                values[len(mask) :] = col_value[len(model.active) :]
                objective = highs.getInfo().objective_function_value
                optimal = True
                break
            mask = mask | entering
        self.last_rounds = rounds
        self.last_build_s = build_s
        self.last_solve_s = time.perf_counter() - began - build_s
        n_x = len(mask)
        return Solution(
            currents_a=values[:n_x].tolist(),
            shortfall_kwh=values[n_x:].tolist() if optimal else list(problem.need_kwh),
            objective=objective,
            optimal=optimal,
            message=status_text,
        )
