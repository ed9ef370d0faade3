"""The policy language's grammar, `sla.lark`: edited here at the top level and installed as
`sla_dsl.grammar` (pyproject's package-dir); in a checkout the link `sla_dsl/grammar` reaches it
by that name, so `importlib.resources` finds it in a wheel and in a checkout alike."""
