"""The Pulumi program: load and validate stack config, compose the backend, export.

Run by `pulumi preview`/`pulumi up`, and by `osmo-backend plan` against a recording mock engine.
"""

from pathlib import Path

import pulumi

from components import policy_gate
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

# The security checks refuse the program before anything is registered (or, for values only the
# cloud knows, at that resource's registration) unless osmo-backend:policy.allow lists them.
with policy_gate.gate(spec.policy.allow):
    backend = OsmoBackend("osmo", {"spec": spec})

pulumi.export("cluster_name", backend.cluster_name)
pulumi.export("backend_name", backend.backend_name)
pulumi.export("kubeconfig", backend.kubeconfig)
# Merge into the OSMO service chart values (see `osmo-backend service-values`).
pulumi.export("osmo_service_values", backend.service_values)
pulumi.export("egress_allowlist", backend.egress_allowlist)
# Secret: the service-side Secrets are created from these where osmo.controlPlane is not set.
if backend.connection.backend_token is not None:
    pulumi.export("backend_token", backend.connection.backend_token)
if backend.connection.workflow_data_credential is not None:
    pulumi.export("workflow_data_credential", backend.connection.workflow_data_credential)
if backend.grafana_url is not None:
    pulumi.export("grafana_url", backend.grafana_url)
if backend.dashboard_url is not None:
    pulumi.export("dashboard_url", backend.dashboard_url)
