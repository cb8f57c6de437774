"""One folder per cluster kind: `<kind>/config.py` (its `cluster` section), `<kind>/schema.py` (its
JSON Schema branch), `<kind>/cluster.py` (its component). `registry.py` registers the kinds; the
shared rules are `components.config._common` / `components.config.cluster` (config) and `base.py`
(components). A kind's package imports neither its component nor its cloud SDK: `validate` loads
only the config modules.
"""

# The kinds' config modules import `components.config.*`, whose package imports the registry: load
# the config package first so that importing any `components.clusters.*` module first works too.
import components.config  # noqa: F401  # pyright: ignore[reportUnusedImport]
