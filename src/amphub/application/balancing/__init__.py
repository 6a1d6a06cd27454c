"""Balancing: one controller per load balancing group, from meter readings and charger
states to limits acknowledged by the chargers (SPEC §4, issue 5)."""
