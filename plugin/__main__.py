"""Hosts the multi-language component; started by the Pulumi CLI (see PulumiPlugin.yaml).

`OsmoBackendProvider` is the SDK's component provider (what `component_provider_host` serves)
with invalid arguments reported per input path (see components/package.py).
"""

import sys

from pulumi.provider import main

from components.package import OsmoBackendProvider

if __name__ == "__main__":
    main(OsmoBackendProvider(), sys.argv[1:])
