"""The release, in one place: the package, `sla --version`, SARIF's tool version and the
parser's cache key all read it, and pyproject takes the wheel's version from here."""

__version__ = "0.1.0"
