"""The Pulumi program: load and validate stack config, compose the backend, export.

Run by `pulumi preview`/`pulumi up`, and by `osmo-backend plan` against a recording mock engine.
"""

from pathlib import Path

import pulumi

from components.backend import OsmoBackend
from components.config import ConfigError, current_config, load_spec

raw, secret_keys = current_config()
try:
    spec = load_spec(raw, secret_keys, base_dir=Path(__file__).resolve().parent)
except ConfigError as err:
    # RunError prints the message without a traceback; every problem is one line.
    raise pulumi.RunError("\n".join(err.problems)) from None

for notice in spec.notices:
    pulumi.log.warn(notice)

backend = OsmoBackend("osmo", {"spec": spec})

pulumi.export("cluster_name", backend.cluster_name)
pulumi.export("backend_name", backend.backend_name)
pulumi.export("kubeconfig", backend.kubeconfig)
# Merge into the OSMO service chart values (see `osmo-backend service-values`).
pulumi.export("osmo_service_values", backend.service_values)
pulumi.export("egress_allowlist", backend.egress_allowlist)
if backend.grafana_url is not None:
    pulumi.export("grafana_url", backend.grafana_url)
if backend.dashboard_url is not None:
    pulumi.export("dashboard_url", backend.dashboard_url)
