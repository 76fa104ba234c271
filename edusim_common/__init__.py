"""Pieces truly common to the three services: clock, problem+json errors, database helpers."""
