"""LP solvers for the price planner (HiGHS through highspy)."""
