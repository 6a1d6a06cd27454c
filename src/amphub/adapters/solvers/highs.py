"""The planner's LP solved by HiGHS, by exact column generation on one warm-started model.

A car plugged in for ten hours that needs two hours of charging will, at the optimum, charge
in a handful of its slots; giving the LP every slot of every car makes it several times
larger, and the simplex slower, than it needs to be. So each car starts with its cheapest
slots (twice what it needs, by price) and the circuit rows those can load past their limit.
After each solve every left-out slot is priced with the duals: a slot whose reduced cost
``c_j − a_jᵀy`` is negative would lower the cost. Each car's most improving ones are added to
the same HiGHS model (with the circuit rows they make bindable), which re-solves from the
last basis. When no slot improves, the LP optimality conditions hold for every column of the
full LP: the answer is its exact optimum, not a heuristic. Circuit rows left out cannot bind
with the columns in play, which is safe for the same reason.

The first round starts from a basis rather than from scratch: each car's greedy plan (see
greedy_statuses), or, for a re-plan, the last optimum's basis carried over car by car and
slot by clock time (see carry; the common re-plan, one car more, then needs few iterations).

The arrays are built with numpy from the domain's columnar formulation, without a Python
loop per non-zero. LP columns: one shortfall column per session, then x columns in the order
they entered. LP rows: one energy row per session, then circuit rows in the order added.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta

import highspy
import numpy as np
import numpy.typing as npt

from amphub.adapters.solvers.columns import Columns, columns
from amphub.adapters.solvers.decomposed import solve_decomposed, split
from amphub.domain.errors import InvalidValue
from amphub.domain.planning.problem import Basis, PlanningProblem, Solution
from amphub.domain.planning.warm_start import WarmStart

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Mask = npt.NDArray[np.bool_]
Statuses = npt.NDArray[np.int8]

REDUCED_COST_TOLERANCE = 1e-9
INITIAL_SLOT_FACTOR = 2
INITIAL_SLOT_EXTRA = 2
ENTERING_PER_SESSION = 4
PRIMAL_SIMPLEX = 4
DECOMPOSE_FROM_SESSIONS = 6000
"""From this many sessions a group with sub-groups is solved split along them (see
decomposed.py): the joint simplex grows much faster than linearly with the group. Measured
on bench/planner.py's circuit (CPU s, joint vs split): 3,000 cars 3.1 vs 8.8, 5,000 7.5 vs
15, 7,500 39 vs 21, 10,000 180 vs 33."""
AT_ZERO = 0
BASIC = 1
AT_MAX = 2
HIGHS_STATUS = np.array(
    [highspy.HighsBasisStatus.kLower, highspy.HighsBasisStatus.kBasic,
     highspy.HighsBasisStatus.kUpper],
    dtype=object,
)  # fmt: skip
"""HiGHS's basis status of each of AT_ZERO, BASIC and AT_MAX."""


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
class CarriedBasis:
    """A warm start's basis on the new problem's numbering."""

    column_status: Statuses
    """Per x column of the new problem: AT_ZERO, BASIC or AT_MAX."""
    shortfall_basic: Mask
    """Per session of the new problem."""
    carried: Mask
    """Per session of the new problem: it was in the earlier one."""
    full_rows: Ints
    """Circuit rows of the new problem (``circuit * grid.count + slot``) that were full."""
    lost_basics: Ints
    """Per session of the new problem: how many of its basic columns were in slots that
    are gone."""


def _slot_shift(start: WarmStart, problem: PlanningProblem) -> int | None:
    old, new = start.problem.grid, problem.grid
    if old.minutes != new.minutes:
        return None
    moved = new.start - old.start
    if moved % old.step != timedelta(0):
        return None
    return int(moved // old.step)


def carry(start: WarmStart, problem: PlanningProblem, cols: Columns) -> CarriedBasis | None:
    """``start``'s basis carried to ``problem``: a column keeps its status where the same
    car has the same slot (by clock time) in both, a circuit row its fullness where a circuit
    of the same name has it. None when the grids' slots do not line up."""
    if len(start.previous_session) != problem.n_sessions:
        raise InvalidValue("previous_session", "one entry per session of the new problem")
    shift = _slot_shift(start, problem)
    if shift is None:
        return None
    old = start.problem
    session, slot = cols.session, cols.slot
    old_offsets = np.asarray(old.offsets(), dtype=np.int64)
    old_status = np.zeros(int(old_offsets[-1]), dtype=np.int8)
    old_status[list(start.basis.basic_columns)] = BASIC
    old_status[list(start.basis.full_columns)] = AT_MAX
    previous = np.asarray(start.previous_session, dtype=np.int64)
    carried = previous >= 0
    column_status = np.zeros(len(session), dtype=np.int8)
    known = np.flatnonzero(carried[session])
    was = previous[session[known]]
    old_slot = slot[known] + shift
    old_first = np.asarray(old.first_slot, dtype=np.int64)[was]
    inside = (old_slot >= old_first) & (old_slot < np.asarray(old.end_slot, dtype=np.int64)[was])
    old_column = old_offsets[was[inside]] + old_slot[inside] - old_first[inside]
    column_status[known[inside]] = old_status[old_column]
    old_basics = np.bincount(
        np.repeat(np.arange(old.n_sessions), np.diff(old_offsets))[old_status == BASIC],
        minlength=old.n_sessions,
    )
    kept_basics = np.bincount(session[column_status == BASIC], minlength=problem.n_sessions)
    lost_basics = np.zeros(problem.n_sessions, dtype=np.int64)
    lost_basics[carried] = old_basics[previous[carried]] - kept_basics[carried]
    old_shortfall = np.zeros(old.n_sessions, dtype=np.bool_)
    old_shortfall[list(start.basis.basic_shortfalls)] = True
    shortfall_basic = np.zeros(problem.n_sessions, dtype=np.bool_)
    shortfall_basic[carried] = old_shortfall[previous[carried]]
    circuit_of = {c.name: i for i, c in enumerate(problem.circuits)}
    rows = []
    for row in start.basis.full_rows:
        circuit, old_t = divmod(row, old.grid.count)
        new_circuit = circuit_of.get(old.circuits[circuit].name)
        t = old_t - shift
        if new_circuit is not None and 0 <= t < problem.grid.count:
            rows.append(new_circuit * problem.grid.count + t)
    return CarriedBasis(
        column_status=column_status,
        shortfall_basic=shortfall_basic,
        carried=carried,
        full_rows=np.asarray(rows, dtype=np.int64),
        lost_basics=np.maximum(lost_basics, 0),
    )


class Rows:
    """The circuit rows in the LP: only those that can bind with the columns in play (their
    members' maxima exceed the limit). Entering columns may make more of them bindable;
    those are added, never removed, so the basis stays valid from round to round."""

    def __init__(self, problem: PlanningProblem, cols: Columns) -> None:
        self.first = problem.n_sessions
        self.row_of = np.full(len(cols.circuit_limit), -1, dtype=np.int64)
        """Full-LP circuit row → row in the LP (-1: not in it)."""
        self.circuit_rows = np.zeros(0, dtype=np.int64)
        """Full-LP circuit row of each circuit row in the LP, in order."""

    def newly_bindable(self, cols: Columns, mask: Mask) -> Ints:
        in_play = mask[cols.circuit_col]
        reach = np.bincount(
            cols.circuit_row[in_play],
            weights=cols.upper[cols.circuit_col[in_play]],
            minlength=len(cols.circuit_limit),
        )
        found: Ints = np.flatnonzero((reach > cols.circuit_limit + 1e-9) & (self.row_of < 0))
        return found

    def add(self, new: Ints) -> None:
        self.row_of[new] = self.first + len(self.circuit_rows) + np.arange(len(new))
        self.circuit_rows = np.concatenate((self.circuit_rows, new))


def _column_entries(cols: Columns, lp_rows: Rows, added: Ints) -> tuple[Ints, Ints, Floats]:
    """Column-wise non-zeros of the x columns ``added`` (full-LP indices): (start, index,
    value), with the rows numbered as in the LP."""
    n = len(added)
    where = np.full(len(cols.session), -1, dtype=np.int64)
    where[added] = np.arange(n)
    picked = where[cols.circuit_col] >= 0
    c_local = where[cols.circuit_col[picked]]
    c_rows = lp_rows.row_of[cols.circuit_row[picked]]
    kept = c_rows >= 0
    col = np.concatenate((np.arange(n), c_local[kept]))
    row = np.concatenate((cols.session[added], c_rows[kept]))
    value = np.concatenate((cols.energy[added], np.ones(int(kept.sum()))))
    order = np.lexsort((row, col))
    start = np.concatenate(([0], np.cumsum(np.bincount(col, minlength=n))))
    return start, row[order], value[order]


def _row_entries(cols: Columns, new_rows: Ints, local_col: Ints) -> tuple[Ints, Ints]:
    """Row-wise non-zeros of the circuit rows ``new_rows`` over the columns already in the
    LP (``local_col``: full-LP column → LP column, -1 if not in it): (start, index)."""
    where = np.full(len(cols.circuit_limit), -1, dtype=np.int64)
    where[new_rows] = np.arange(len(new_rows))
    picked = (where[cols.circuit_row] >= 0) & (local_col[cols.circuit_col] >= 0)
    row = where[cols.circuit_row[picked]]
    col = local_col[cols.circuit_col[picked]]
    order = np.lexsort((col, row))
    start = np.concatenate(([0], np.cumsum(np.bincount(row, minlength=len(new_rows)))))
    return start, col[order]


def greedy_statuses(cols: Columns, need_kwh: Floats, active: Ints) -> tuple[Statuses, Mask]:
    """A dual feasible starting basis for the LP of the ``active`` x columns: each session
    alone, circuits ignored, fills its cheapest slots at full current; the slot that meets
    its need is basic (its price per kWh is the energy row's dual), cheaper ones sit at their
    maximum, dearer ones at zero; a session whose slots cannot hold its need keeps its
    shortfall basic instead. With every circuit row's slack basic (dual 0), each reduced
    cost has the sign its bound asks for, and the dual simplex only has to remove the
    circuit overloads: about half the iterations of starting from the slack basis.

    Returns the status of each active column and which sessions' shortfalls are basic."""
    n_sessions = len(need_kwh)
    session = cols.session[active]
    full_kwh = cols.upper[active] * cols.energy[active]
    order = np.lexsort((cols.slot[active], cols.cost[active] / cols.energy[active], session))
    ordered = session[order]
    filled = np.cumsum(full_kwh[order])
    group_start = np.searchsorted(ordered, np.arange(n_sessions))
    before_group = np.concatenate(([0.0], filled))[group_start]
    after = filled - before_group[ordered]
    before = after - full_kwh[order]
    need = need_kwh[ordered]
    status = np.full(len(active), AT_ZERO, dtype=np.int8)
    status[order[after < need]] = AT_MAX
    marginal = (before < need) & (after >= need)
    status[order[marginal]] = BASIC
    shortfall_basic: Mask = np.ones(n_sessions, dtype=np.bool_)
    shortfall_basic[ordered[marginal]] = False
    return status, shortfall_basic


def starting_basis(
    cols: Columns,
    need_kwh: Floats,
    active: Ints,
    lp_rows: Rows,
    carried: CarriedBasis | None,
) -> highspy.HighsBasis:
    """The greedy basis (see greedy_statuses), with the carried one in place of it for the
    sessions a warm start knows. A carried basis rarely has exactly one basic variable per
    row (slots have passed, cars come and go): it is passed as an alien basis, which HiGHS
    completes with slacks or trims."""
    status, shortfall_basic = greedy_statuses(cols, need_kwh, active)
    n_rows = len(need_kwh) + len(lp_rows.circuit_rows)
    row_status = np.full(n_rows, BASIC, dtype=np.int8)
    row_status[: len(need_kwh)] = AT_ZERO
    if carried is not None:
        known = carried.carried[cols.session[active]]
        status[known] = carried.column_status[active[known]]
        shortfall_basic[carried.carried] = carried.shortfall_basic[carried.carried]
        full = lp_rows.row_of[carried.full_rows]
        row_status[full[full >= 0]] = AT_MAX
        _restore_basics(cols, active, status, shortfall_basic, row_status, carried)
    shortfall = np.where(shortfall_basic, BASIC, AT_ZERO)
    basis = highspy.HighsBasis()
    basis.col_status = HIGHS_STATUS[np.concatenate((shortfall, status))].tolist()
    basis.row_status = HIGHS_STATUS[row_status].tolist()
    basis.valid = True
    basis.alien = carried is not None
    return basis


def _restore_basics(
    cols: Columns,
    active: Ints,
    status: Statuses,
    shortfall_basic: Mask,
    row_status: Statuses,
    carried: CarriedBasis,
) -> None:
    """Basic columns in slots that are gone leave the carried basis short. Each session
    left without one gets one back: its dearest column at its maximum (the new margin: its
    need shrank by what the gone slots gave), or else its cheapest at zero. Left to HiGHS,
    its energy row's slack would become basic instead, its dual 0, and every one of its
    columns would look wrong. If the basis is still short, sessions that lost more get more
    back the same way, until it is square."""
    n_sessions = len(shortfall_basic)
    session = cols.session[active]
    has_basic = shortfall_basic | (np.bincount(session[status == BASIC], minlength=n_sessions) > 0)
    wanted = (~has_basic & carried.carried).astype(np.int64)
    basics = int(shortfall_basic.sum() + (status == BASIC).sum() + (row_status == BASIC).sum())
    short = len(row_status) - basics - int(wanted.sum())
    if short > 0:
        extra = np.maximum(0, carried.lost_basics - wanted)
        before = np.cumsum(extra) - extra
        wanted += np.clip(short - before, 0, extra)
    candidates = np.flatnonzero((wanted[session] > 0) & (status != BASIC))
    if not len(candidates):
        return
    per_kwh = cols.cost[active[candidates]] / cols.energy[active[candidates]]
    at_max = status[candidates] == AT_MAX
    # at their maximum first, dearest first; then at zero, cheapest first
    order = candidates[np.lexsort((np.where(at_max, -per_kwh, per_kwh), ~at_max,
                                   session[candidates]))]  # fmt: skip
    ordered = session[order]
    group_start = np.searchsorted(ordered, ordered)
    rank = np.arange(len(order)) - group_start
    status[order[rank < wanted[ordered]]] = BASIC


def initial_lp(problem: PlanningProblem) -> highspy.HighsLp:
    """The energy rows and the shortfall columns; x columns and circuit rows are added."""
    n_sessions = problem.n_sessions
    need = np.asarray(problem.need_kwh, dtype=np.float64)
    lp = highspy.HighsLp()
    lp.num_col_ = n_sessions
    lp.num_row_ = n_sessions
    lp.col_cost_ = np.full(n_sessions, problem.shortfall_per_kwh)
    lp.col_lower_ = np.zeros(n_sessions)
    lp.col_upper_ = need
    lp.row_lower_ = need
    lp.row_upper_ = need
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = np.arange(n_sessions + 1, dtype=np.int32)
    lp.a_matrix_.index_ = np.arange(n_sessions, dtype=np.int32)
    lp.a_matrix_.value_ = np.ones(n_sessions)
    return lp


def _best_per_session(cols: Columns, candidates: Mask, priced: Floats) -> Ints:
    """Of the improving columns, each session's ``ENTERING_PER_SESSION`` most improving: a
    slot priced with the duals of rows not yet in the LP looks better than it is, and taking
    them all would grow the LP towards the full one."""
    found = np.flatnonzero(candidates)
    if not len(found):
        return found
    order = found[np.lexsort((priced[found], cols.session[found]))]
    sessions = cols.session[order]
    first = np.concatenate(([True], sessions[1:] != sessions[:-1]))
    group_start = np.maximum.accumulate(np.where(first, np.arange(len(order)), 0))
    best: Ints = order[np.arange(len(order)) - group_start < ENTERING_PER_SESSION]
    return best


def _as_mask(indices: Ints, size: int) -> Mask:
    mask: Mask = np.zeros(size, dtype=np.bool_)
    mask[indices] = True
    return mask


def reduced_costs(cols: Columns, lp_rows: Rows, row_dual: Floats, n_sessions: int) -> Floats:
    """``c_j − a_jᵀy`` of every x column of the full LP (rows left out have dual 0)."""
    circuit_dual = np.zeros(len(cols.circuit_limit))
    circuit_dual[lp_rows.circuit_rows] = row_dual[n_sessions:]
    priced = cols.cost - cols.energy * row_dual[:n_sessions][cols.session]
    priced -= np.bincount(
        cols.circuit_col, weights=circuit_dual[cols.circuit_row], minlength=len(priced)
    )
    return priced


class HighsSolver:
    """Implements :class:`amphub.application.planning.ports.Solver`. Column generation on
    one HiGHS model: entering columns are added to it, so each round starts from the last
    optimal basis (a warm start) instead of from scratch. Large groups with sub-groups are
    split along them instead (no warm start there)."""

    def __init__(
        self,
        *,
        time_limit_s: float = 30.0,
        max_rounds: int = 100,
        decompose_from_sessions: int = DECOMPOSE_FROM_SESSIONS,
    ) -> None:
        self._time_limit_s = time_limit_s
        self._max_rounds = max_rounds
        self._decompose_from = decompose_from_sessions
        self.last_build_s = 0.0
        self.last_solve_s = 0.0
        self.last_rounds = 0
        self.last_iterations = 0
        """Simplex iterations of the last solve, all rounds together."""

    def solve(self, problem: PlanningProblem, warm_start: WarmStart | None = None) -> Solution:
        """The optimum of ``problem``; from ``warm_start``'s basis where it carries over."""
        began = time.perf_counter()
        n_sessions = problem.n_sessions
        if not n_sessions:
            return Solution((), (), 0.0, optimal=True, message="no session to plan")
        cols = columns(problem)
        blocks = split(problem) if n_sessions >= self._decompose_from else None
        if blocks is not None:
            self.last_build_s = time.perf_counter() - began
            solution = solve_decomposed(problem, cols, blocks, self._time_limit_s)
            self.last_solve_s = time.perf_counter() - began - self.last_build_s
            self.last_rounds = self.last_iterations = 0
            return solution
        carried = None if warm_start is None else carry(warm_start, problem, cols)
        lp_rows = Rows(problem, cols)
        highs = highspy.Highs()  # type: ignore[no-untyped-call]
        highs.setOptionValue("output_flag", False)
        highs.setOptionValue("time_limit", self._time_limit_s)
        highs.setOptionValue("threads", 1)
        if carried is not None and carried.carried.all():
            # The same cars, later or with other needs: the carried point is (nearly)
            # primal feasible, and on tied prices its basis is one of many optimal ones;
            # the dual simplex, which restores dual feasibility first, wanders among the
            # ties (hourly prices, a quarter hour on: 1,939 iterations; primal: 96). A new
            # car overloads circuits instead, which the dual simplex removes best.
            highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
        highs.passModel(initial_lp(problem))
        mask = np.zeros(len(cols.session), dtype=np.bool_)
        local_col = np.full(len(cols.session), -1, dtype=np.int64)
        active = np.zeros(0, dtype=np.int64)
        initial = initial_columns(problem, cols)
        if carried is not None:
            initial |= carried.column_status != AT_ZERO
        entering = np.flatnonzero(initial)
        build_s = time.perf_counter() - began
        optimal = False
        status_text = "not solved"
        rounds = 0
        iterations = 0
        while rounds < self._max_rounds:
            rounds += 1
            built_at = time.perf_counter()
            new_rows = lp_rows.newly_bindable(cols, mask | _as_mask(entering, len(mask)))
            if len(new_rows):
                row_start, row_index = _row_entries(cols, new_rows, local_col)
                highs.addRows(
                    len(new_rows), np.full(len(new_rows), -highspy.kHighsInf),
                    cols.circuit_limit[new_rows], len(row_index),
                    row_start[:-1].astype(np.int32), row_index.astype(np.int32),
                    np.ones(len(row_index)),
                )  # fmt: skip
                lp_rows.add(new_rows)
            start, index, value = _column_entries(cols, lp_rows, entering)
            highs.addCols(
                len(entering), cols.cost[entering], np.zeros(len(entering)),
                cols.upper[entering], len(index), start[:-1].astype(np.int32),
                index.astype(np.int32), value,
            )  # fmt: skip
            local_col[entering] = n_sessions + len(active) + np.arange(len(entering))
            active = np.concatenate((active, entering))
            mask[entering] = True
            if rounds == 1:
                need = np.asarray(problem.need_kwh, dtype=np.float64)
                highs.setBasis(starting_basis(cols, need, active, lp_rows, carried))
            build_s += time.perf_counter() - built_at
            highs.run()
            iterations += highs.getInfo().simplex_iteration_count
            # Later rounds start from this basis, which stays primal feasible when columns
            # are added: the primal simplex goes on from it (the dual simplex, and presolve,
            # would largely start over).
            highs.setOptionValue("presolve", "off")
            highs.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
            status = highs.getModelStatus()
            status_text = highs.modelStatusToString(status)
            if status != highspy.HighsModelStatus.kOptimal:
                break
            row_dual = np.asarray(highs.getSolution().row_dual)
            priced = reduced_costs(cols, lp_rows, row_dual, n_sessions)
            entering = _best_per_session(
                cols, ~mask & (priced < -REDUCED_COST_TOLERANCE * (1 + np.abs(cols.cost))), priced
            )
            if not len(entering):
                optimal = True
                break
        self.last_rounds = rounds
        self.last_iterations = iterations
        self.last_build_s = build_s
        self.last_solve_s = time.perf_counter() - began - build_s
        currents = np.zeros(len(mask))
        shortfall = np.asarray(problem.need_kwh, dtype=np.float64)
        objective = float("nan")
        basis = None
        if optimal:
            values = np.asarray(highs.getSolution().col_value)
            shortfall = values[:n_sessions]
            currents[active] = values[n_sessions:]
            objective = highs.getInfo().objective_function_value
            basis = _optimal_basis(highs, cols, active, lp_rows, values[n_sessions:])
        return Solution(
            currents_a=currents.tolist(),
            shortfall_kwh=shortfall.tolist(),
            objective=objective,
            optimal=optimal,
            message=status_text,
            basis=basis,
        )


def _optimal_basis(
    highs: highspy.Highs, cols: Columns, active: Ints, lp_rows: Rows, currents_a: Floats
) -> Basis:
    """The basis HiGHS ended on, numbered as the full LP (see Basis). Which variables are
    basic comes from HiGHS (basic variable ``j >= 0`` is column j, ``-1 - i`` row i); which
    non-basic x columns are at their maximum from the values (fetching the statuses of every
    column through highspy would cost more than the solve)."""
    n_sessions = lp_rows.first
    found = np.asarray(highs.getBasicVariables()[1], dtype=np.int64)  # type: ignore[attr-defined]
    basic_cols = found[found >= 0]
    basic_x = np.zeros(len(active), dtype=np.bool_)
    basic_x[basic_cols[basic_cols >= n_sessions] - n_sessions] = True
    full_x = ~basic_x & (currents_a >= cols.upper[active] - 1e-9)
    circuit_basic = np.zeros(len(lp_rows.circuit_rows), dtype=np.bool_)
    basic_rows = -1 - found[found < 0]
    circuit_basic[basic_rows[basic_rows >= n_sessions] - n_sessions] = True
    return Basis(
        basic_columns=tuple(active[basic_x].tolist()),
        full_columns=tuple(active[full_x].tolist()),
        basic_shortfalls=tuple(basic_cols[basic_cols < n_sessions].tolist()),
        full_rows=tuple(lp_rows.circuit_rows[~circuit_basic].tolist()),
    )
