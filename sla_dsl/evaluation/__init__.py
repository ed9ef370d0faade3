"""A history replayed against a policy: the history and as-of time read as `sla evaluate` reads
them (inputs), each lead's clocks (replay), the policy's routing of a lead to its handoff
blocks (routing, which the simulator shares), the lead conditions they test, the consequences a
breach sets off, the clock audit that explains one lead, and its instants written as text
(instants)."""
