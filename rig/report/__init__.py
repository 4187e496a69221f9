"""The parts of the HTML report: timeline, what changed, steps, compare, suite index, replay."""
