"""The multi-language package schema, generated offline (no Pulumi CLI needed).

`python -m components.package_schema > plugin/schema.json` refreshes the committed snapshot, so a
change to the public contract shows up in review; a test fails when it is stale. The inputs come
from components/package_args.py, generated from the config models: after a model change, run
`python -m components.package_inputs > components/package_args.py` first.
"""

import json

from components.package import OsmoBackendProvider


def render() -> str:
    provider = OsmoBackendProvider()
    if provider.schema is None:
        raise RuntimeError("the component analyzer produced no schema")
    return json.dumps(json.loads(provider.schema), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
