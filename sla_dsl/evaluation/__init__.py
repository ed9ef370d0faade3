"""A history replayed against a policy: each lead's clocks (replay), the lead conditions they
test, the consequences a breach sets off, and the clock audit that explains one lead."""
