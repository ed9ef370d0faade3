"""sla_dsl: service-level agreements between marketing and sales, written as code."""

__version__ = "0.1.0"
