"""Adaptive charging: price cache and refresh, schedules, session needs, the price planner
and the caps they hand the balancer (see docs/adaptive-charging.md)."""
