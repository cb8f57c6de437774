"""`osmo-backend init`: a commented starter stack file for each cluster kind.

Every starter validates as written (tests/cli/test_init.py runs `validate` on each): the values
marked CHANGE are placeholders a user replaces, not gaps that fail. The first line points editors
at the stack-config JSON Schema (yaml-language-server's modeline), as the reference stacks do.
"""

import os
from pathlib import Path
from typing import Literal, get_args

Kind = Literal["eks", "gke", "aks", "existing"]
KINDS: tuple[Kind, ...] = get_args(Kind)
SCHEMA = Path("schema") / "stack-config.schema.json"

_HEADER = """\
# yaml-language-server: $schema={schema}
# Stack {name}: {what}.
# Written by `osmo-backend init`. Change the values marked CHANGE, then check and preview:
#   osmo-backend validate --stack {name}
#   osmo-backend plan --stack {name}
# README "Config reference" (and the schema above) documents every key and its default.
config:
"""

_OSMO = """\
  osmo-backend:osmo:
    backendName: {name}                 # the backend's name in OSMO (a DNS label)
    serviceUrl: https://osmo.example.com  # CHANGE: your OSMO service (gateway) URL
"""

_BODY: dict[Kind, tuple[str, str]] = {
    "eks": (
        "a new EKS cluster for OSMO",
        """\
  aws:region: us-west-2                 # CHANGE: the AWS region
  osmo-backend:cluster:
    kind: eks
    name: {name}
    kubernetesVersion: "1.33"           # quoted: YAML reads an unquoted 1.30 as the number 1.3
    network:
      vpcCidr: 10.40.0.0/16             # a new VPC (or vpcId and privateSubnetIds for your own)
    endpoint:
      # Networks allowed to reach the API server (your VPN's egress); an empty list keeps it
      # private, reachable from inside the VPC only.
      publicAccessCidrs: [203.0.113.0/24]  # CHANGE
    nodePools:
      # The operator pool runs KAI, the GPU Operator and OSMO's operator; gpu pools are tainted.
      - {{name: operator, role: operator, instanceType: m6i.xlarge, minSize: 2, maxSize: 3}}
      - {{name: compute, role: compute, instanceType: m6i.4xlarge, minSize: 0, maxSize: 10}}
      - {{name: gpu, role: gpu, instanceType: g6.12xlarge, minSize: 0, maxSize: 2}}
""",
    ),
    "gke": (
        "a new GKE cluster for OSMO",
        """\
  gcp:project: my-gcp-project           # CHANGE: the Google Cloud project id
  gcp:region: us-central1               # CHANGE: the region
  osmo-backend:cluster:
    kind: gke
    name: {name}
    kubernetesVersion: "1.33"           # quoted: YAML reads an unquoted 1.30 as the number 1.3
    network:
      subnetCidr: 10.60.0.0/20
      podCidr: 10.64.0.0/14
      serviceCidr: 10.68.0.0/20
    endpoint:
      privateEndpoint: true             # the control plane has no public endpoint
      dnsEndpoint: true                 # reach it through Google's DNS endpoint (IAM-checked)
    nodePools:
      # The operator pool runs KAI, the GPU Operator and OSMO's operator; gpu pools are tainted.
      - {{name: operator, role: operator, machineType: n1-standard-4, minNodes: 1, maxNodes: 3}}
      - {{name: compute, role: compute, machineType: n1-standard-8, minNodes: 0, maxNodes: 10}}
      - {{name: gpu, role: gpu, machineType: g2-standard-24, minNodes: 0, maxNodes: 2}}
""",
    ),
    "aks": (
        "a new AKS cluster for OSMO",
        """\
  azure-native:location: eastus         # CHANGE: the Azure region
  osmo-backend:cluster:
    kind: aks
    name: {name}
    resourceGroup: {name}-rg            # created by the stack
    kubernetesVersion: "1.33"           # quoted: YAML reads an unquoted 1.30 as the number 1.3
    network:
      vnetCidr: 10.80.0.0/16
      nodeSubnetCidr: 10.80.0.0/20
    apiServer:
      # Networks allowed to reach the API server (your VPN's egress), or privateCluster: true.
      authorizedIpRanges: [203.0.113.0/24]  # CHANGE
    nodePools:
      # Exactly one operator pool: it is AKS's system pool. gpu pools are tainted.
      - {{name: operator, role: operator, vmSize: Standard_D4s_v3, minCount: 2, maxCount: 3}}
      - {{name: compute, role: compute, vmSize: Standard_D8s_v3, minCount: 0, maxCount: 10}}
      - {{name: gpu, role: gpu, vmSize: Standard_NC24ads_A100_v4, minCount: 0, maxCount: 2}}
""",
    ),
    "existing": (
        "an existing Kubernetes cluster (on-prem or any cloud) adopted from a kubeconfig",
        """\
  osmo-backend:cluster:
    kind: existing
    name: {name}
    # A kubeconfig file (relative to the project directory, or absolute). Or leave this out and
    # set its content as a secret: pulumi config set --secret kubeconfig < FILE
    kubeconfig: {kubeconfig}
    # context: my-context               # default: the kubeconfig's current-context
    nodeRoles:
      # Which nodes OSMO uses for each role: nodes already labelled node-type=<role> by
      # default, or list node names here and the stack labels (and, for gpu, taints) them.
      operator: {{}}
      compute: {{}}
      gpu: {{}}
  osmo-backend:networking:
    workflowPolicy:
      clusterCIDRs: [10.0.0.0/8]        # CHANGE: the cluster's pod and service ranges
""",
    ),
}


def starter(kind: Kind, name: str, stack_dir: Path, project_dir: Path, kubeconfig: str) -> str:
    """The starter stack file text for `kind`."""
    schema = Path(os.path.relpath(project_dir / SCHEMA, stack_dir)).as_posix()
    what, body = _BODY[kind]
    return (
        _HEADER.format(schema=schema, name=name, what=what)
        + body.format(name=name, kubeconfig=kubeconfig)
        + _OSMO.format(name=name)
    )
