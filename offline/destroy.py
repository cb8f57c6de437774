"""What `pulumi destroy` would do to a recorded stack: `osmo-backend plan --destroy`.

Pure functions over the records `resources.json` holds (urn, type, name, custom, parent,
provider, dependencies, propertyDependencies, inputs, effective options), in registration order.
The engine's rules, as pulumi/pulumi (commit 1b5949891b3c) implements them:
- Every resource of the stack gets a delete step (`GenerateDeletes` in
  pkg/resource/deploy/step_generator.go). `ScheduleDeletes` (same file) orders them in
  antichains: it repeatedly takes every condemned resource none of whose dependencies is still
  condemned, then reverses the list; the deployment executor
  (pkg/resource/deploy/deployment_executor.go, `performPostSteps`) runs one antichain (a "wave"
  here) to completion before it starts the next.
- A resource's dependencies (`DependencyGraph.DependenciesOf`, pkg/resource/graph/
  dependency_graph.go) are its parent, provider, `dependencies`, `propertyDependencies` and
  `deletedWith`; a dependency on a component adds that component's descendants registered
  before the resource.
- `DeleteStep.Apply` (pkg/resource/deploy/step.go) refuses a protected resource first, in a
  preview and in an update alike; otherwise it makes no delete call for `retainOnDelete` (the
  object stays in the cloud, forgotten from the state), nor when the `deletedWith` target is
  also being deleted; a component has no cloud object. After a failed step the executor skips
  everything the failed resource depends on and runs the rest.
On top of that, the clouds' own rules (each cited where it is applied): a deleted Azure resource
group takes everything in it, a deleted S3 bucket setting is undone on a bucket that stays,
Cloud KMS never frees a key ring's or key's name, and volumes must be released while the nodes
and storage driver still run.
"""

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

Record = Mapping[str, Any]
Action = Literal["delete", "keep", "forget", "cloud-keeps", "protected", "state-only"]

DELETE: Action = "delete"
KEEP: Action = "keep"
FORGET: Action = "forget"
CLOUD_KEEPS: Action = "cloud-keeps"
PROTECTED: Action = "protected"
STATE_ONLY: Action = "state-only"

_LABELS: dict[Action, str] = {
    DELETE: "delete",
    KEEP: "keep in cloud",
    FORGET: "forget",
    CLOUD_KEEPS: "cloud keeps",
    PROTECTED: "PROTECTED",
    STATE_ONLY: "state only",
}

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
S3_BUCKETS = ("aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2")
S3_BUCKET_SETTINGS = {
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "public access block",
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": "ownership controls",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "default encryption"
    ),
    "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": (
        "default encryption"
    ),
    "aws:s3/bucketVersioning:BucketVersioning": "versioning",
    "aws:s3/bucketVersioningV2:BucketVersioningV2": "versioning",
}
KMS_KEY_RING = "gcp:kms/keyRing:KeyRing"
KMS_CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
GKE_CLUSTER = "gcp:container/cluster:Cluster"
AKS_CLUSTER = "azure-native:containerservice:ManagedCluster"
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
PVC = "kubernetes:core/v1:PersistentVolumeClaim"
STATEFUL_SET = "kubernetes:apps/v1:StatefulSet"
EKS_ADDON = "aws:eks/addon:Addon"
VOLUME_CHARTS = ("kube-prometheus-stack", "loki")
"""Charts whose releases in this project claim persistent volumes (Prometheus, Grafana,
Alertmanager and Loki storage)."""
NODE_POOLS = {
    "aws:eks/nodeGroup:NodeGroup": ("labels",),
    "gcp:container/nodePool:NodePool": ("nodeConfig", "labels"),
    "azure-native:containerservice:AgentPool": ("nodeLabels",),
}
"""Node pool types and where their node labels are; AKS' system pool is inline in the cluster."""
OPERATOR_LABEL = ("node-type", "operator")
STORAGE_DRIVER_ADDONS = ("aws-ebs-csi-driver",)

FIXES = {
    "protected": (
        "turn protect off (osmo-backend:policy.protect: false; on GKE also the cluster's "
        "deletionProtection: false) and run `pulumi up` before `pulumi destroy`"
    ),
    "cloud-deletion-protection": (
        "set protect on the cluster whenever its deletion protection is on, so the engine "
        "refuses the destroy before it deletes anything"
    ),
    "kept-inside-deleted-container": (
        "keep retained resources out of a resource group the stack deletes (retain the group "
        "too, or put them in a separate retained group)"
    ),
    "bucket-setting-undone": (
        "retain the setting with its bucket (retainOnDelete, or deletedWith the bucket)"
    ),
    "fixed-name-kept-by-cloud": (
        "give the name a per-deployment random suffix (random.RandomString), as the AKS vault has"
    ),
    "volume-owner-after-driver": (
        "make the volume owner depend on the node pool and storage driver (depends_on, or "
        "through its Kubernetes provider), and never set deletedWith on it"
    ),
}
FAILING = frozenset(FIXES) - {"protected"}
"""Findings that fail the destroy plan (exit 2): each is a destroy that does not finish cleanly,
loses data, leaks cloud resources or breaks the next `up`. A protected resource is not a defect:
it is the refusal the stack asked for (`policy.protect`, GKE `deletionProtection`), reported
apart (`DestroyPlan.refused`) with how to lift it."""


class DestroyGraphError(ValueError):
    """The records do not form a graph the engine could schedule (a cycle or a dangling URN)."""


@dataclass(frozen=True)
class Step:
    urn: str
    type: str
    name: str
    action: Action
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "urn": self.urn,
            "type": self.type,
            "name": self.name,
            "action": self.action,
        }
        if self.note:
            out["note"] = self.note
        return out


@dataclass(frozen=True)
class DestroyFinding:
    id: str
    urn: str
    message: str

    @property
    def fix(self) -> str:
        return FIXES[self.id]

    def line(self) -> str:
        return f"{self.id} {self.urn}: {self.message}. Fix: {self.fix}"

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "urn": self.urn, "message": self.message, "fix": self.fix}


@dataclass(frozen=True)
class DestroyPlan:
    project: str
    stack: str
    waves: list[list[Step]]
    findings: list[DestroyFinding]
    """Defects: each fails the destroy plan."""
    refused: list[DestroyFinding] = field(default_factory=list["DestroyFinding"])
    """Protected resources: the destroy preview refuses them, as the stack asked."""

    @property
    def failing(self) -> list[DestroyFinding]:
        return [f for f in self.findings if f.id in FAILING]

    def wave_of(self, urn: str) -> int:
        """1-based wave of a resource (raises KeyError for an unknown URN)."""
        for index, wave in enumerate(self.waves, start=1):
            if any(step.urn == urn for step in wave):
                return index
        raise KeyError(urn)

    def step(self, urn: str) -> Step:
        for wave in self.waves:
            for step in wave:
                if step.urn == urn:
                    return step
        raise KeyError(urn)

    def counts(self) -> dict[Action, int]:
        counts = dict.fromkeys(_LABELS, 0)
        for wave in self.waves:
            for step in wave:
                counts[step.action] += 1
        return counts

    def to_json(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "stack": self.stack,
            "waves": [
                {"wave": index, "steps": [s.to_json() for s in wave]}
                for index, wave in enumerate(self.waves, start=1)
            ],
            "summary": {"waves": len(self.waves), **self.counts()},
            "findings": [f.to_json() for f in self.findings],
            "refused": [f.to_json() for f in self.refused],
        }

    def lines(self) -> Iterator[str]:
        """The report: wave by wave (state-only steps counted, not listed), then findings."""
        yield (
            f"Destroy plan for stack {self.stack}: {len(self.waves)} waves, each starting when "
            "the one before it is done"
        )
        for index, wave in enumerate(self.waves, start=1):
            shown = [s for s in wave if s.action != STATE_ONLY]
            hidden = len(wave) - len(shown)
            extra = f" (+{hidden} state only: components, providers)" if hidden else ""
            yield f"wave {index}{extra}"
            for step in sorted(shown, key=lambda s: (list(_LABELS).index(s.action), s.urn)):
                note = f"  ({step.note})" if step.note else ""
                yield f"  {_LABELS[step.action]:<13} {step.type}  {step.name}{note}"
        counts = self.counts()
        yield (
            f"Destroy: {counts[DELETE]} deleted, {counts[KEEP]} kept in the cloud "
            f"(retainOnDelete), {counts[FORGET]} forgotten with their cluster (deletedWith), "
            f"{counts[CLOUD_KEEPS]} kept by the cloud, {counts[PROTECTED]} protected, "
            f"{counts[STATE_ONLY]} state only"
        )
        if self.refused:
            yield (
                f"pulumi destroy refuses up front: {len(self.refused)} protected resources fail "
                "its preview, nothing is deleted"
            )
            for refusal in self.refused:
                yield f"  {refusal.line()}"


def _options(record: Record) -> Mapping[str, Any]:
    return cast(Mapping[str, Any], record.get("options") or {})


def _inputs(record: Record) -> Mapping[str, Any]:
    return cast(Mapping[str, Any], record.get("inputs") or {})


def _property_deps(record: Record, key: str) -> list[str]:
    deps = cast(Mapping[str, list[str]], record.get("propertyDependencies") or {})
    return list(deps.get(key, []))


def _direct_dependencies(record: Record) -> set[str]:
    """`GetAllDependencies` (pkg/resource/state.go) without the parent, plus the provider, as
    `DependenciesOf` reads them: dependencies, property dependencies, deletedWith, provider."""
    deps: set[str] = set(cast(list[str], record.get("dependencies") or []))
    for urns in cast(Mapping[str, list[str]], record.get("propertyDependencies") or {}).values():
        deps.update(urns)
    for single in (record.get("provider"), _options(record).get("deletedWith")):
        if single:
            deps.add(str(single))
    deps.discard(str(record["urn"]))
    return deps


def dependency_graph(records: Sequence[Record]) -> dict[str, set[str]]:
    """Each URN's dependencies among the records, as `DependencyGraph.DependenciesOf` computes
    them: a dependency on a component also counts that component's descendants registered
    before the dependent (pkg/resource/graph/dependency_graph.go). Unknown URNs are refused."""
    index = {str(r["urn"]): i for i, r in enumerate(records)}
    by_urn = {str(r["urn"]): r for r in records}
    descendants: dict[str, list[str]] = {urn: [] for urn in index}
    for record in records:
        parent = record.get("parent")
        while parent:
            if parent not in by_urn:
                raise DestroyGraphError(f"{record['urn']}: parent {parent} is not in the stack")
            descendants[parent].append(str(record["urn"]))
            parent = by_urn[parent].get("parent")
    graph: dict[str, set[str]] = {}
    for record in records:
        urn = str(record["urn"])
        deps: set[str] = set()
        for dep in _direct_dependencies(record):
            if dep not in by_urn:
                raise DestroyGraphError(f"{urn}: depends on {dep}, which is not in the stack")
            deps.add(dep)
            if not by_urn[dep].get("custom", True):
                deps.update(d for d in descendants[dep] if index[d] < index[urn])
        parent = record.get("parent")
        if parent:
            # The parent counts itself, never its other children.
            deps.add(str(parent))
        deps.discard(urn)
        graph[urn] = deps
    return graph


def schedule(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """`ScheduleDeletes`: antichains of resources with no condemned dependency left, reversed
    (the first wave is deleted first). Each wave is sorted by URN."""
    condemned = set(graph)
    antichains: list[list[str]] = []
    while condemned:
        ready = sorted(urn for urn in condemned if not (graph[urn] & condemned))
        if not ready:
            raise DestroyGraphError("dependency cycle among: " + ", ".join(sorted(condemned)))
        antichains.append(ready)
        condemned.difference_update(ready)
    antichains.reverse()
    return antichains


def transitive(graph: Mapping[str, set[str]], urn: str) -> set[str]:
    """Everything `urn` depends on, directly or not."""
    seen: set[str] = set()
    todo = list(graph[urn])
    while todo:
        dep = todo.pop()
        if dep not in seen:
            seen.add(dep)
            todo.extend(graph[dep])
    return seen


def _action(record: Record, deleting: set[str]) -> tuple[Action, str]:
    """`DeleteStep.Apply`'s decision (pkg/resource/deploy/step.go), in its order."""
    options = _options(record)
    type_ = str(record["type"])
    if options.get("protect"):
        return PROTECTED, "protect: the destroy preview fails"
    if not record.get("custom", True) or type_.startswith("pulumi:providers:"):
        return STATE_ONLY, ""
    if options.get("retainOnDelete"):
        return KEEP, "retainOnDelete: stays in the cloud, forgotten from the state"
    with_ = options.get("deletedWith")
    if with_ and with_ in deleting:
        return FORGET, f"forgotten with {_name(str(with_))} (deletedWith): no delete call"
    if type_ in (KMS_KEY_RING, KMS_CRYPTO_KEY):
        # pulumi_gcp kms/key_ring.py and kms/crypto_key.py: "KeyRings cannot be deleted from
        # Google Cloud Platform. Destroying a provider-managed KeyRing will remove it from state
        # but will not delete the resource from the project." (CryptoKeys likewise; their
        # versions are destroyed.)
        return CLOUD_KEEPS, "Cloud KMS never deletes it: forgotten from the state only"
    return DELETE, ""


def _name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1]


def analyze(records: Sequence[Record], *, project: str = "", stack: str = "") -> DestroyPlan:
    """The destroy plan of the recorded stack: waves, what each step does, and findings."""
    graph = dependency_graph(records)
    waves_urns = schedule(graph)
    by_urn = {str(r["urn"]): r for r in records}
    # Every resource is condemned in a destroy (`GenerateDeletes` marks each in sg.deletes, which
    # is what `isDeletedWith` reads), whether or not its own step makes a delete call.
    deleting = set(by_urn)
    actions = {urn: _action(by_urn[urn], deleting) for urn in by_urn}
    wave_of = {urn: i for i, wave in enumerate(waves_urns, start=1) for urn in wave}

    findings: list[DestroyFinding] = []
    notes: dict[str, str] = {}
    refused = sorted(_protected(records, graph, actions), key=lambda f: f.urn)
    findings += _cloud_deletion_protection(records, actions, wave_of)
    findings += _resource_groups(records, actions, wave_of, notes)
    findings += _bucket_settings(records, actions)
    findings += _kms_names(records, by_urn)
    findings += _volume_owners(records, graph, actions, wave_of)
    findings.sort(key=lambda f: (f.id, f.urn, f.message))

    waves = [
        [
            Step(
                urn=urn,
                type=str(by_urn[urn]["type"]),
                name=str(by_urn[urn]["name"]),
                action=actions[urn][0],
                note=notes.get(urn, actions[urn][1]),
            )
            for urn in wave
        ]
        for wave in waves_urns
    ]
    return DestroyPlan(
        project=project, stack=stack, waves=waves, findings=findings, refused=refused
    )


def _protected(
    records: Sequence[Record],
    graph: Mapping[str, set[str]],
    actions: Mapping[str, tuple[Action, str]],
) -> Iterator[DestroyFinding]:
    # step.go DeleteStep.Apply: "Refuse to delete protected resources" comes before the DryRun
    # check, so the preview fails; the Automation API's up/destroy run with --skip-preview, and
    # then deployment_executor.go skips only what the failed resource depends on.
    for record in records:
        urn = str(record["urn"])
        if actions[urn][0] != PROTECTED:
            continue
        stays = transitive(graph, urn)
        yield DestroyFinding(
            "protected",
            urn,
            "the destroy preview fails: the resource cannot be deleted because it is "
            "protected; with --skip-preview (the Automation API) the run deletes everything "
            f"else it can first and stops, leaving this resource and the {len(stays)} it "
            "depends on",
        )


def _cloud_deletion_protection(
    records: Sequence[Record],
    actions: Mapping[str, tuple[Action, str]],
    wave_of: Mapping[str, int],
) -> Iterator[DestroyFinding]:
    # pulumi_gcp container/cluster.py, deletion_protection: "Deleting this cluster via terraform
    # destroy or terraform apply will only succeed if this field is false in the Terraform
    # state." The provider enforces it at the cluster's own delete, after the waves before it.
    for record in records:
        urn = str(record["urn"])
        if record["type"] != GKE_CLUSTER or actions[urn][0] != DELETE:
            continue
        if _inputs(record).get("deletionProtection") is not False:
            wave = wave_of[urn]
            yield DestroyFinding(
                "cloud-deletion-protection",
                urn,
                f"GKE deletionProtection refuses the delete only at the cluster's own step "
                f"(wave {wave}), after waves 1-{wave - 1} deleted what the cluster needs; "
                "the engine does not know (no protect), so nothing stops the destroy up front",
            )


def _group_name(record: Record) -> str | None:
    name = _inputs(record).get("resourceGroupName")
    return name if isinstance(name, str) and not name.startswith("[") else None


def _resource_groups(
    records: Sequence[Record],
    actions: Mapping[str, tuple[Action, str]],
    wave_of: Mapping[str, int],
    notes: dict[str, str],
) -> Iterator[DestroyFinding]:
    # Deleting an Azure resource group deletes every resource in it, Pulumi-managed or not,
    # retained or not (pulumi/pulumi-azure-native#2522; Azure Resource Manager's
    # "Delete resource group and resources").
    groups = [
        r for r in records if r["type"] == RESOURCE_GROUP and actions[str(r["urn"])][0] == DELETE
    ]
    for group in groups:
        group_urn = str(group["urn"])
        group_name = _group_name(group)
        for record in records:
            urn = str(record["urn"])
            if urn == group_urn or actions[urn][0] != KEEP:
                continue
            inside = group_urn in _property_deps(record, "resourceGroupName") or (
                group_name is not None and _group_name(record) == group_name
            )
            if not inside:
                continue
            notes[urn] = (
                f"retainOnDelete, but deleted by the cloud with resource group "
                f"{_name(group_urn)} in wave {wave_of[group_urn]}"
            )
            yield DestroyFinding(
                "kept-inside-deleted-container",
                urn,
                f"retained {record['type']} {record['name']!r} is in resource group "
                f"{group_name or _name(group_urn)!r}, which the destroy deletes (wave "
                f"{wave_of[group_urn]}): Azure deletes everything in the group with it",
            )


def _bucket_settings(
    records: Sequence[Record], actions: Mapping[str, tuple[Action, str]]
) -> Iterator[DestroyFinding]:
    # The provider's delete undoes the setting on the bucket (hashicorp/terraform-provider-aws
    # internal/service/s3: bucket_public_access_block.go DeletePublicAccessBlock,
    # bucket_ownership_controls.go DeleteBucketOwnershipControls; pulumi_aws s3
    # bucket_server_side_encryption_configuration.py "resets the bucket to Amazon S3 bucket
    # default encryption", bucket_versioning.py "will either suspend versioning").
    stays = {
        str(r["urn"]): r
        for r in records
        if r["type"] in S3_BUCKETS and actions[str(r["urn"])][0] in (KEEP, PROTECTED)
    }
    for record in records:
        setting = S3_BUCKET_SETTINGS.get(str(record["type"]))
        urn = str(record["urn"])
        if setting is None or actions[urn][0] != DELETE:
            continue
        for bucket_urn in _property_deps(record, "bucket"):
            if bucket_urn in stays:
                yield DestroyFinding(
                    "bucket-setting-undone",
                    urn,
                    f"deleting it removes the {setting} of bucket "
                    f"{_inputs(stays[bucket_urn]).get('bucket') or _name(bucket_urn)!r}, "
                    "which the destroy keeps",
                )


def _name_is_fixed(record: Record, by_urn: Mapping[str, Record]) -> bool:
    """A name that no random resource feeds is the same on the next `up`."""
    return not any(
        str(by_urn[dep]["type"]).startswith("random:")
        for dep in _property_deps(record, "name")
        if dep in by_urn
    )


def _kms_names(records: Sequence[Record], by_urn: Mapping[str, Record]) -> Iterator[DestroyFinding]:
    # Cloud KMS keeps key ring and key names after a destroy (see _action), so creating the same
    # name again fails with 409 already exists. A key's full name includes its key ring's.
    for record in records:
        urn = str(record["urn"])
        if record["type"] not in (KMS_KEY_RING, KMS_CRYPTO_KEY) or not _name_is_fixed(
            record, by_urn
        ):
            continue
        if record["type"] == KMS_CRYPTO_KEY:
            rings = [by_urn[d] for d in _property_deps(record, "keyRing") if d in by_urn]
            if any(not _name_is_fixed(ring, by_urn) for ring in rings):
                continue
        name = _inputs(record).get("name") or record["name"]
        yield DestroyFinding(
            "fixed-name-kept-by-cloud",
            urn,
            f"Cloud KMS never deletes {record['type']} {name!r}: the fixed name stays taken "
            "after a destroy and the next `up` fails with 409 already exists",
        )


def _labels(record: Record, path: tuple[str, ...]) -> Mapping[str, Any]:
    value: Any = _inputs(record)
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    return cast(Mapping[str, Any], value) if isinstance(value, Mapping) else {}


def _node_holders(records: Sequence[Record]) -> list[Record]:
    """The nodes volume owners run on: the operator pool(s), or every pool when none is
    labelled `node-type=operator`. An AKS cluster counts for its inline system pool."""
    pools: list[tuple[Record, bool]] = []
    for record in records:
        type_ = str(record["type"])
        if type_ in NODE_POOLS:
            labels = _labels(record, NODE_POOLS[type_])
            pools.append((record, labels.get(OPERATOR_LABEL[0]) == OPERATOR_LABEL[1]))
        elif type_ == AKS_CLUSTER:
            profiles = _inputs(record).get("agentPoolProfiles") or []
            inline = [p for p in cast(list[Any], profiles) if isinstance(p, Mapping)]
            if inline:
                operator = any(
                    _labels(cast(Record, {"inputs": p}), ("nodeLabels",)).get(OPERATOR_LABEL[0])
                    == OPERATOR_LABEL[1]
                    for p in inline
                )
                pools.append((record, operator))
    operators = [r for r, is_operator in pools if is_operator]
    return operators or [r for r, _ in pools]


def _volume_owner(record: Record) -> str | None:
    type_ = str(record["type"])
    inputs = _inputs(record)
    if type_ == HELM_RELEASE:
        chart = str(inputs.get("chart") or "").rsplit("/", 1)[-1]
        return f"Helm release of {chart}" if chart in VOLUME_CHARTS else None
    if type_ == PVC:
        return "PersistentVolumeClaim"
    if type_ == STATEFUL_SET:
        spec = inputs.get("spec")
        if isinstance(spec, Mapping) and cast(Mapping[str, Any], spec).get("volumeClaimTemplates"):
            return "StatefulSet with volume claim templates"
    return None


def _volume_owners(
    records: Sequence[Record],
    graph: Mapping[str, set[str]],
    actions: Mapping[str, tuple[Action, str]],
    wave_of: Mapping[str, int],
) -> Iterator[DestroyFinding]:
    # A volume's cloud disk is released by the CSI driver when its claim goes; with the nodes or
    # the driver gone first (or the claim never deleted), EBS/PD/Azure disks outlive the stack.
    # Waves run one after another (deployment_executor.go), but only a dependency makes the
    # order certain: it must be deleted strictly earlier, as a dependent.
    holders = [(r, "nodes") for r in _node_holders(records) if actions[str(r["urn"])][0] == DELETE]
    holders += [
        (r, "storage driver")
        for r in records
        if r["type"] == EKS_ADDON
        and _inputs(r).get("addonName") in STORAGE_DRIVER_ADDONS
        and actions[str(r["urn"])][0] == DELETE
    ]
    if not holders:
        return
    for record in records:
        kind = _volume_owner(record)
        urn = str(record["urn"])
        if kind is None:
            continue
        action = actions[urn][0]
        if action in (FORGET, KEEP):
            why = "forgotten with its cluster" if action == FORGET else "retained"
            yield DestroyFinding(
                "volume-owner-after-driver",
                urn,
                f"{kind} {record['name']!r} is {why}: it is never uninstalled, so its volumes "
                "outlive the destroy",
            )
            continue
        if action != DELETE:
            continue
        before = transitive(graph, urn)
        for holder, role in holders:
            holder_urn = str(holder["urn"])
            if holder_urn in before:
                continue
            order = "after" if wave_of[urn] > wave_of[holder_urn] else "not ordered before"
            yield DestroyFinding(
                "volume-owner-after-driver",
                urn,
                f"{kind} {record['name']!r} (wave {wave_of[urn]}) is deleted {order} "
                f"{role} {holder['type']} {holder['name']!r} (wave {wave_of[holder_urn]}): "
                "it does not depend on them, so its volumes can outlive the destroy",
            )


def write(plan: DestroyPlan, out: Path) -> Path:
    """Write `out/destroy.json` (stable order) and return its path."""
    out.mkdir(parents=True, exist_ok=True)
    path = out / "destroy.json"
    path.write_text(json.dumps(plan.to_json(), indent=2) + "\n")
    return path
