"""Adaptive charging, pure: weekly schedules, tariffs and prices per slot, the price
planner's LP as data, its baselines, and plans turned into per-connector caps."""
