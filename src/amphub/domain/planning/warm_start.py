"""Starting a re-plan from the last plan's optimum (a warm start).

A re-plan mostly sees the same cars on nearly the same prices: one car arrived or left, a
quarter hour passed, a need changed. The last optimum's basis (which currents sat at zero,
which at their maximum, which in between; which circuit rows were full), carried over to the
new problem car by car and slot by clock time, is close to the new optimum, so the simplex
needs a few iterations from it instead of thousands from scratch. It is only a start: from
any basis the solver reaches the same optimum, from a poor one it just takes longer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt

from amphub.domain.errors import InvalidValue
from amphub.domain.planning.problem import Basis, PlanningProblem

AT_ZERO = 0
BASIC = 1
AT_MAX = 2

Ints = npt.NDArray[np.int64]
Statuses = npt.NDArray[np.int8]
Mask = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class WarmStart:
    """An earlier problem and its optimal basis, and which of its sessions each session of
    the new problem is (by position; -1 for a car that was not in it)."""

    problem: PlanningProblem
    basis: Basis
    previous_session: tuple[int, ...]

    def __post_init__(self) -> None:
        n = self.problem.n_sessions
        known = [s for s in self.previous_session if s >= 0]
        if any(not -1 <= s < n for s in self.previous_session) or len(set(known)) != len(known):
            raise InvalidValue("previous_session", f"distinct indices below {n}, or -1")


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


def _slot_shift(start: WarmStart, problem: PlanningProblem) -> int | None:
    old, new = start.problem.grid, problem.grid
    if old.minutes != new.minutes:
        return None
    moved = new.start - old.start
    if moved % old.step != timedelta(0):
        return None
    return int(moved // old.step)


def _columns(problem: PlanningProblem) -> tuple[Ints, Ints, Ints]:
    """Per x column: its session and slot; and each session's first column."""
    first = np.asarray(problem.first_slot, dtype=np.int64)
    lengths = np.asarray(problem.end_slot, dtype=np.int64) - first
    offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
    session = np.repeat(np.arange(len(first), dtype=np.int64), lengths)
    slot = np.arange(offsets[-1], dtype=np.int64) - offsets[session] + first[session]
    return session, slot, offsets


def carry(start: WarmStart, problem: PlanningProblem) -> CarriedBasis | None:
    """``start``'s basis carried to ``problem``: a column keeps its status where the same
    car has the same slot (by clock time) in both, a circuit row its fullness where a circuit
    of the same name has it. None when the grids' slots do not line up."""
    if len(start.previous_session) != problem.n_sessions:
        raise InvalidValue("previous_session", "one entry per session of the new problem")
    shift = _slot_shift(start, problem)
    if shift is None:
        return None
    old = start.problem
    session, slot, _ = _columns(problem)
    _, _, old_offsets = _columns(old)
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
    )
