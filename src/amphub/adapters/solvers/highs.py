"""The planner's LP solved by HiGHS: the domain's columnar formulation turned into one
column-wise sparse matrix with numpy, without a Python loop per non-zero.

Columns: the x columns session by session (``problem.offsets()``), then one shortfall column
per session. Rows: one energy row per session, then ``n_slots`` rows per circuit.
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


@dataclass(frozen=True, slots=True)
class BuiltModel:
    """The LP in HiGHS's column-wise form, plus how long building it took."""

    cost: Floats
    col_upper: Floats
    row_lower: Floats
    row_upper: Floats
    start: npt.NDArray[np.int32]
    index: npt.NDArray[np.int32]
    value: Floats
    build_s: float


def _session_columns(problem: PlanningProblem) -> tuple[Ints, Ints, Ints]:
    """Per x column: its session, its slot; and the offsets of each session's columns."""
    first = np.asarray(problem.first_slot, dtype=np.int64)
    end = np.asarray(problem.end_slot, dtype=np.int64)
    lengths = end - first
    offsets = np.concatenate(([0], np.cumsum(lengths)))
    session = np.repeat(np.arange(len(first)), lengths)
    slot = np.arange(offsets[-1]) - offsets[session] + first[session]
    return session, slot, offsets


def build(problem: PlanningProblem) -> BuiltModel:
    began = time.perf_counter()
    n_sessions = problem.n_sessions
    n_slots = problem.grid.count
    session, slot, offsets = _session_columns(problem)
    n_x = int(offsets[-1])
    hours = np.asarray(problem.grid.hours())
    prices = np.asarray(problem.price_per_kwh) + problem.earliness_per_kwh * np.arange(n_slots)
    kw = np.asarray(problem.kw_per_a)
    energy = kw[session] * hours[slot]  # kWh per A in each x column

    # Non-zeros as (column, row, value): energy rows, circuit rows, shortfall columns.
    cols = [np.arange(n_x), np.arange(n_x, n_x + n_sessions)]
    rows = [session, np.arange(n_sessions)]
    values = [energy, np.ones(n_sessions)]
    row_upper = [np.asarray(problem.need_kwh)]
    for c, circuit in enumerate(problem.circuits):
        members = np.asarray(circuit.members, dtype=np.int64)
        member_cols = (
            np.concatenate([np.arange(offsets[s], offsets[s + 1]) for s in members])
            if len(members)
            else np.zeros(0, dtype=np.int64)
        )
        cols.append(member_cols)
        rows.append(n_sessions + c * n_slots + slot[member_cols])
        values.append(np.ones(len(member_cols)))
        row_upper.append(np.asarray(circuit.limit_a))
    col = np.concatenate(cols)
    row = np.concatenate(rows)
    value = np.concatenate(values)
    order = np.lexsort((row, col))
    counts = np.bincount(col, minlength=n_x + n_sessions)
    start = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
    need = np.asarray(problem.need_kwh)
    upper = np.concatenate(row_upper)
    lower = np.concatenate((need, np.full(len(upper) - n_sessions, -highspy.kHighsInf)))
    return BuiltModel(
        cost=np.concatenate(
            (energy * prices[slot], np.full(n_sessions, problem.shortfall_per_kwh))
        ),
        col_upper=np.concatenate((np.asarray(problem.max_a)[session], need)),
        row_lower=lower,
        row_upper=upper,
        start=start,
        index=row[order].astype(np.int32),
        value=value[order],
        build_s=time.perf_counter() - began,
    )


class HighsSolver:
    """Implements :class:`amphub.application.planning.ports.Solver`. Dual simplex by
    default: on this structure (one equality per car, box bounds, circuit rows) it beats the
    interior point method up to a few thousand cars; ``time_limit_s`` bounds a pathological
    case, and a non-optimal answer is reported as such."""

    def __init__(self, *, time_limit_s: float = 30.0, threads: int = 1) -> None:
        self._time_limit_s = time_limit_s
        self._threads = threads
        self.last_build_s = 0.0
        self.last_solve_s = 0.0

    def solve(self, problem: PlanningProblem) -> Solution:
        model = build(problem)
        began = time.perf_counter()
        n_cols = len(model.cost)
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("time_limit", self._time_limit_s)
        highs.setOptionValue("threads", self._threads)
        lp = highspy.HighsLp()
        lp.num_col_ = n_cols
        lp.num_row_ = len(model.row_upper)
        lp.col_cost_ = model.cost
        lp.col_lower_ = np.zeros(n_cols)
        lp.col_upper_ = model.col_upper
        lp.row_lower_ = model.row_lower
        lp.row_upper_ = model.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = model.start
        lp.a_matrix_.index_ = model.index
        lp.a_matrix_.value_ = model.value
        highs.passModel(lp)
        highs.run()
        status = highs.getModelStatus()
        optimal = status == highspy.HighsModelStatus.kOptimal
        values = np.asarray(highs.getSolution().col_value) if optimal else np.zeros(n_cols)
        n_x = n_cols - problem.n_sessions
        self.last_build_s = model.build_s
        self.last_solve_s = time.perf_counter() - began
        return Solution(
            currents_a=values[:n_x].tolist(),
            shortfall_kwh=values[n_x:].tolist() if optimal else list(problem.need_kwh),
            objective=highs.getInfo().objective_function_value if optimal else float("nan"),
            optimal=optimal,
            message=highs.modelStatusToString(status),
        )
