"""The offline optimum: with every arrival, departure and need known in advance, the most
energy the site could deliver — a linear programme solved with HiGHS.

Variables: the current r(s, t) ≥ 0 of session s in each period t it is plugged in, at most
the lower of the car's and the EVSE's maximum. Constraints: on each grid phase and in each
period, the sessions on that phase add up to at most what charging may use there (fuse −
building − buffer, as the online algorithms are told); each session gets at most its need.
Objective: the energy delivered, with a tie-break a millionth as large for charging early.

The 6 A minimum of real pilots is relaxed (a car may take 0..max), so this is an upper bound
on what any online algorithm under the same physics can do: a percentage of it is
conservative.
"""

from __future__ import annotations

import highspy
import numpy as np

from quality_model import Outcome, Site


def optimum(site: Site) -> Outcome:
    evses = site.evse_by_id
    columns: list[tuple[int, int]] = []  # (session index, period)
    col_rows: list[list[int]] = []
    col_cost: list[float] = []
    col_upper: list[float] = []
    n_phase_rows = 3 * site.periods
    for index, s in enumerate(site.sessions):
        per_amp = site.energy_per_amp_wh(s)
        cap = site.rate_cap_a(s)
        phases = evses[s.station_id].grid_phases(s.car_phases)
        for t in range(s.arrival, min(s.departure, site.periods)):
            columns.append((index, t))
            col_rows.append([3 * t + p for p in phases] + [n_phase_rows + index])
            col_cost.append(per_amp * (1 - 1e-6 * t / site.periods))
            col_upper.append(cap)
    values: list[float] = []
    for (index, _), rows in zip(columns, col_rows, strict=True):
        per_amp = site.energy_per_amp_wh(site.sessions[index])
        values.extend([1.0] * (len(rows) - 1) + [per_amp])
    starts = np.zeros(len(columns) + 1, dtype=np.int32)
    starts[1:] = np.cumsum([len(rows) for rows in col_rows])
    row_upper = np.concatenate(
        [
            np.array([site.limits(t) for t in range(site.periods)]).reshape(-1),
            np.array([s.need_wh for s in site.sessions]),
        ]
    )

    lp = highspy.HighsLp()
    lp.num_col_ = len(columns)
    lp.num_row_ = len(row_upper)
    lp.col_cost_ = np.array(col_cost)
    lp.col_lower_ = np.zeros(len(columns))
    lp.col_upper_ = np.array(col_upper)
    lp.row_lower_ = np.full(len(row_upper), -highspy.kHighsInf)
    lp.row_upper_ = row_upper
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts
    lp.a_matrix_.index_ = np.array([r for rows in col_rows for r in rows], dtype=np.int32)
    lp.a_matrix_.value_ = np.array(values)
    solver = highspy.Highs()
    solver.setOptionValue("output_flag", False)
    solver.passModel(lp)
    solver.run()
    if solver.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"LP not solved: {solver.modelStatusToString(solver.getModelStatus())}")
    rates = np.array(solver.getSolution().col_value)

    draws = {s.session_id: np.zeros(site.periods) for s in site.sessions}
    charging = np.zeros((site.periods, 3))
    delivered = {s.session_id: 0.0 for s in site.sessions}
    for (index, t), rate in zip(columns, rates, strict=True):
        s = site.sessions[index]
        draws[s.session_id][t] = rate
        delivered[s.session_id] += rate * site.energy_per_amp_wh(s)
        for phase in evses[s.station_id].grid_phases(s.car_phases):
            charging[t, phase] += rate
    total = site.building_a + charging
    overload = float(np.maximum(total - site.fuse_a - 0.05, 0.0).sum()) * site.period_s
    return Outcome("LP optimum", delivered, charging, draws, overload, float(total.max()))
