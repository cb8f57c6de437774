"""Hosts the multi-language component; started by the Pulumi CLI (see PulumiPlugin.yaml)."""

from pulumi.provider.experimental import component_provider_host

from components.package import PACKAGE, OsmoBackendStack
from components.versions import PACKAGE_VERSION

if __name__ == "__main__":
    component_provider_host([OsmoBackendStack], name=PACKAGE, version=PACKAGE_VERSION)
