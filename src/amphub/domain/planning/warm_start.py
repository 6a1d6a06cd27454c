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

from amphub.domain.errors import InvalidValue
from amphub.domain.planning.problem import Basis, PlanningProblem


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
