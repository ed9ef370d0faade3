"""A history replayed against a policy: each lead's clocks (replay), the policy's routing of a
lead to its handoff blocks (routing, which the simulator shares), the lead conditions they
test, the consequences a breach sets off, and the clock audit that explains one lead."""
