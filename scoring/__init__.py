"""Scoring: checks that read real device state, safety checks, and suite metrics."""
