"""The planner's LP of a large group, split along its sub-groups (Dantzig–Wolfe).

Only the main fuse's rows tie the sub-groups together; everything else (each car's energy
row, each sub-group's own fuses) stays inside one sub-group. So the LP is solved as:

- a master LP that mixes, per sub-group (a block), plans the block proposed, subject to the
  main fuse: one column per proposed plan (its cost, and what it draws on each main-fuse row
  per slot), one convexity row per block (its plans' weights add up to 1), one row per
  main-fuse phase and slot;
- per block, its own small LP, in which each main-fuse row's dual is a price per amp on
  top of the energy price (the master's "price for the shared fuse"): its optimum is the
  block's most attractive plan at those prices, added to the master when it beats the
  block's current mix (negative reduced cost).

Every block starts with its zero plan (all shortfall), which keeps the master feasible. The
block optima give a lower bound on the joint optimum at each round (the Lagrangian bound);
the rounds stop when the master is within ``GAP`` of it. The answer is the master's mix:
a convex combination of plans that each respect their block's fuses, weighted so that the
main fuse holds, so it is feasible at every round, and optimal within ``GAP``.

Each block's LP is one HiGHS model kept for all rounds; only its costs change, so it
re-solves from its last basis. The work grows about linearly with the group, where the
joint simplex grows much faster (10,000 cars: minutes jointly).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from amphub.adapters.solvers.columns import Columns
from amphub.domain.planning.problem import PlanningProblem, Solution

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]

GAP = 1e-5
"""Relative distance of the master's objective to the Lagrangian bound at which it stops."""
MAX_ROUNDS = 200


@dataclass(frozen=True, slots=True)
class Split:
    """Which block each session is in, and which circuits are the shared (main-fuse) ones."""

    block_of_session: Ints
    shared: npt.NDArray[np.bool_]
    """Per circuit of the problem."""
    n_blocks: int


def split(problem: PlanningProblem) -> Split | None:
    """Blocks: the largest node sets below the node whose circuits cover the most sessions
    (the main fuse); sessions on no sub-group's circuit form one block of their own. None
    when the circuits do not name their nodes or do not nest as a tree."""
    circuits = problem.circuits
    if not circuits or any(not c.node for c in circuits):
        return None
    members: dict[str, set[int]] = {}
    for circuit in circuits:
        members.setdefault(circuit.node, set()).update(circuit.members)
    root = max(members, key=lambda node: len(members[node]))
    block = np.full(problem.n_sessions, -1, dtype=np.int64)
    n_blocks = 0
    for node in sorted((n for n in members if n != root), key=lambda n: -len(members[n])):
        sessions = np.fromiter(members[node], dtype=np.int64, count=len(members[node]))
        taken = block[sessions] >= 0
        if taken.all():
            continue  # a node inside a block already made
        if taken.any():
            return None  # overlapping nodes: not a tree
        block[sessions] = n_blocks
        n_blocks += 1
    loose = block < 0
    if loose.any():
        block[loose] = n_blocks
        n_blocks += 1
    if n_blocks < 2:
        return None
    shared = np.asarray([c.node == root for c in circuits], dtype=np.bool_)
    return Split(block, shared, n_blocks)


class _Block:
    """One block's LP (shortfall columns first, then its x columns; energy rows, then its
    own circuit rows), kept in one HiGHS model whose costs change from round to round."""

    def __init__(
        self,
        columns: Ints,
        sessions: Ints,
        need_kwh: Floats,
        shortfall_per_kwh: float,
        cost: Floats,
        upper: Floats,
        energy_row: Ints,
        energy: Floats,
        circuit_col: Ints,
        circuit_row: Ints,
        circuit_limit: Floats,
        shared_col: Ints,
        shared_row: Ints,
    ) -> None:
        self.columns = columns
        """Full-LP x columns of the block, in its LP's order."""
        self.sessions = sessions
        self.n_sessions = len(sessions)
        self.shared_col = shared_col
        self.shared_row = shared_row
        """The block's non-zeros on the shared rows: local x column, shared row index."""
        n_x = len(columns)
        rows, local_row = np.unique(circuit_row, return_inverse=True)
        n = self.n_sessions
        col = np.concatenate((np.arange(n), n + np.arange(n_x), n + circuit_col))
        row = np.concatenate((np.arange(n), energy_row, n + local_row))
        value = np.concatenate((np.ones(n), energy, np.ones(len(circuit_col))))
        order = np.lexsort((row, col))
        lp = highspy.HighsLp()
        lp.num_col_ = n + n_x
        lp.num_row_ = n + len(rows)
        self.cost = np.concatenate((np.full(n, shortfall_per_kwh), cost))
        lp.col_cost_ = self.cost
        lp.col_lower_ = np.zeros(n + n_x)
        lp.col_upper_ = np.concatenate((need_kwh, upper))
        lp.row_lower_ = np.concatenate((need_kwh, np.full(len(rows), -highspy.kHighsInf)))
        lp.row_upper_ = np.concatenate((need_kwh, circuit_limit[rows]))
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        counts = np.bincount(col, minlength=n + n_x)
        lp.a_matrix_.start_ = np.concatenate(([0], np.cumsum(counts))).astype(np.int32)
        lp.a_matrix_.index_ = row[order].astype(np.int32)
        lp.a_matrix_.value_ = value[order]
        self.highs = highspy.Highs()  # type: ignore[no-untyped-call]
        self.highs.setOptionValue("output_flag", False)
        self.highs.setOptionValue("threads", 1)
        self.highs.passModel(lp)
        self.all_columns = np.arange(n + n_x, dtype=np.int32)
        self.zero_plan = np.concatenate((need_kwh, np.zeros(n_x)))

    def usage(self, plan: Floats, n_shared: int) -> Floats:
        """What a plan draws on each shared row."""
        weights = plan[self.n_sessions + self.shared_col]
        return np.bincount(self.shared_row, weights=weights, minlength=n_shared).astype(np.float64)

    def best(self, shared_price: Floats) -> tuple[float, Floats] | None:
        """The block's optimum with each shared row's amps priced: (objective, plan)."""
        extra = np.bincount(
            self.shared_col,
            weights=shared_price[self.shared_row],
            minlength=len(self.columns),
        )
        cost = self.cost.copy()
        cost[self.n_sessions :] += extra
        self.highs.changeColsCost(len(cost), self.all_columns, cost)
        self.highs.run()
        if self.highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        plan = np.asarray(self.highs.getSolution().col_value)
        return self.highs.getInfo().objective_function_value, plan


def solve_decomposed(
    problem: PlanningProblem, cols: Columns, blocks_of: Split, time_limit_s: float
) -> Solution:
    began = time.perf_counter()
    session, energy, cost, upper = cols.session, cols.energy, cols.cost, cols.upper
    circuit_col, circuit_row, circuit_limit = cols.circuit_col, cols.circuit_row, cols.circuit_limit
    n_slots = problem.grid.count
    need = np.asarray(problem.need_kwh, dtype=np.float64)
    col_block = blocks_of.block_of_session[session]
    shared_nz = blocks_of.shared[circuit_row // n_slots] if len(circuit_row) else circuit_row > 0
    shared_rows, shared_index = np.unique(circuit_row[shared_nz], return_inverse=True)
    n_shared = len(shared_rows)

    # Everything per block, from one stable sort of columns and of non-zeros by block.
    by_block = np.argsort(col_block, kind="stable")
    col_bounds = np.searchsorted(col_block[by_block], np.arange(blocks_of.n_blocks + 1))
    local = np.empty(len(session), dtype=np.int64)
    local[by_block] = np.arange(len(session)) - col_bounds[col_block[by_block]]
    nz_block = col_block[circuit_col]
    own = np.flatnonzero(~shared_nz)
    own = own[np.argsort(nz_block[own], kind="stable")]
    own_bounds = np.searchsorted(nz_block[own], np.arange(blocks_of.n_blocks + 1))
    tied = np.flatnonzero(shared_nz)
    tied_index = shared_index
    order = np.argsort(nz_block[tied], kind="stable")
    tied, tied_index = tied[order], tied_index[order]
    tied_bounds = np.searchsorted(nz_block[tied], np.arange(blocks_of.n_blocks + 1))
    session_local = np.empty(problem.n_sessions, dtype=np.int64)
    blocks = []
    for b in range(blocks_of.n_blocks):
        columns = by_block[col_bounds[b] : col_bounds[b + 1]]
        sessions = np.flatnonzero(blocks_of.block_of_session == b)
        session_local[sessions] = np.arange(len(sessions))
        mine = own[own_bounds[b] : own_bounds[b + 1]]
        shared_here = tied[tied_bounds[b] : tied_bounds[b + 1]]
        blocks.append(
            _Block(
                columns=columns, sessions=sessions, need_kwh=need[sessions],
                shortfall_per_kwh=problem.shortfall_per_kwh, cost=cost[columns],
                upper=upper[columns], energy_row=session_local[session[columns]],
                energy=energy[columns], circuit_col=local[circuit_col[mine]],
                circuit_row=circuit_row[mine], circuit_limit=circuit_limit,
                shared_col=local[circuit_col[shared_here]],
                shared_row=tied_index[tied_bounds[b] : tied_bounds[b + 1]],
            )
        )  # fmt: skip

    master = highspy.Highs()  # type: ignore[no-untyped-call]
    master.setOptionValue("output_flag", False)
    master.setOptionValue("threads", 1)
    none_i = np.zeros(0, dtype=np.int32)
    master.addRows(
        n_shared, np.full(n_shared, -highspy.kHighsInf), circuit_limit[shared_rows], 0,
        none_i, none_i, np.zeros(0),
    )  # fmt: skip
    n_blocks = blocks_of.n_blocks
    master.addRows(n_blocks, np.ones(n_blocks), np.ones(n_blocks), 0, none_i, none_i, np.zeros(0))
    plans: list[tuple[int, Floats]] = []

    def propose(b: int, plan: Floats) -> None:
        usage = blocks[b].usage(plan, n_shared)
        rows = np.flatnonzero(usage > 1e-12)
        index = np.concatenate((rows, [n_shared + b])).astype(np.int32)
        master.addCol(
            float(blocks[b].cost @ plan), 0.0, highspy.kHighsInf, len(index), index,
            np.concatenate((usage[rows], [1.0])),
        )  # fmt: skip
        plans.append((b, plan))

    for b, block in enumerate(blocks):
        propose(b, block.zero_plan)
    price = np.zeros(n_shared)
    block_dual = np.full(n_blocks, np.inf)
    objective = float("nan")
    message = "not solved"
    optimal = False
    for _ in range(MAX_ROUNDS):
        bound = -float(price @ circuit_limit[shared_rows])
        proposed = 0
        for b, block in enumerate(blocks):
            best = block.best(price)
            if best is None:
                return _failed(problem, "a block's LP has no optimum")
            value, plan = best
            bound += value
            if value - block_dual[b] < -1e-9 * (1.0 + abs(value)):
                propose(b, plan)
                proposed += 1
        master.run()
        if master.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return _failed(problem, master.modelStatusToString(master.getModelStatus()))
        objective = master.getInfo().objective_function_value
        duals = np.asarray(master.getSolution().row_dual)
        price = np.maximum(0.0, -duals[:n_shared])
        block_dual = duals[n_shared:]
        gap = (objective - bound) / max(1.0, abs(objective))
        if proposed == 0 or gap <= GAP:
            optimal = True
            message = f"decomposed into {n_blocks} blocks, within {max(gap, 0.0):.1e} of optimal"
            break
        if time.perf_counter() - began > time_limit_s:
            message = "time limit reached"
            break
    weights = np.asarray(master.getSolution().col_value)
    currents = np.zeros(len(session))
    shortfall = np.zeros(problem.n_sessions)
    for weight, (b, plan) in zip(weights, plans, strict=True):
        if weight > 0:
            block = blocks[b]
            currents[block.columns] += weight * plan[block.n_sessions :]
            shortfall[block.sessions] += weight * plan[: block.n_sessions]
    return Solution(
        currents_a=currents.tolist(),
        shortfall_kwh=shortfall.tolist() if optimal else list(problem.need_kwh),
        objective=objective,
        optimal=optimal,
        message=message,
    )


def _failed(problem: PlanningProblem, message: str) -> Solution:
    return Solution(
        currents_a=[0.0] * problem.offsets()[-1],
        shortfall_kwh=list(problem.need_kwh),
        objective=float("nan"),
        optimal=False,
        message=message,
    )
