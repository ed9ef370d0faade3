"""Whether the goals can be held, before anyone signs: the goal funnel, the `sla plan` document
built on it, the scenario a planner describes, the queueing estimate of first touch, and
calibration of a scenario from a history."""
