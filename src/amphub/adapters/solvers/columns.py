"""The planner's LP as numpy arrays: every x column of the full LP (one per session and slot
of its stay) with its energy, cost and bound, and the circuit rows' non-zeros, built from the
domain's columnar formulation without a Python loop per non-zero."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from amphub.domain.planning.problem import PlanningProblem

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


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
    # Each (circuit, member) pair stands for the member's run of columns: expand the runs.
    members = [np.asarray(c.members, dtype=np.int64) for c in problem.circuits]
    pair_circuit = np.repeat(np.arange(len(members)), [len(m) for m in members])
    pair_session = np.concatenate(members) if members else np.zeros(0, dtype=np.int64)
    run = lengths[pair_session]
    run_start = np.cumsum(run) - run
    circuit_col = np.repeat(offsets[pair_session] - run_start, run) + np.arange(run.sum())
    circuit_row = np.repeat(pair_circuit, run) * n_slots + slot[circuit_col]
    return Columns(
        session=session,
        slot=slot,
        energy=energy,
        cost=energy * prices[slot],
        upper=np.asarray(problem.max_a, dtype=np.float64)[session],
        circuit_col=circuit_col.astype(np.int64),
        circuit_row=circuit_row.astype(np.int64),
        circuit_limit=np.concatenate([np.asarray(c.limit_a) for c in problem.circuits])
        if problem.circuits
        else np.zeros(0),
    )
