"""The policy language's grammar, `sla.lark`: edited here at the top level and installed as
`sla_dsl.grammar`, so that `importlib.resources` finds it in a wheel and in a checkout alike."""
