"""The component provider: serves ContainerService and its helpers to every Pulumi language.

`pulumi package add ./components` runs this file through the Python language host (PulumiPlugin.yaml
names the runtime) and asks it for its schema, which Pulumi infers from the args TypedDicts and
the components' output annotations (pulumi/provider/experimental/analyzer.py)."""

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from pulumi.provider import main
from pulumi.provider.experimental.analyzer import PropertyDefinition, PropertyType
from pulumi.provider.experimental.component import ComponentProvider
from shipyard import AccessLogBucket, ContainerService, FargateCluster, Network

PACKAGE = "shipyard"
"""The Pulumi package name (the schema's `name`, the `shipyard:index:*` tokens)."""
DISTRIBUTION = "shipyard-fargate"
"""The Python distribution that carries it (components/pyproject.toml), whose version is served."""
COMPONENTS = [ContainerService, Network, FargateCluster, AccessLogBucket]


class ShipyardProvider(ComponentProvider):
    """The SDK's component provider, with integer inputs delivered as integers.

    Numbers cross the wire as floats. pulumi 3.272's ComponentProvider.map_input_properties means
    to convert integer properties back, but assigns the raw float right after the conversion, and
    never converts integers inside lists or maps; the validators would then refuse `cpu: 512.0`
    from every language but Python. A float with a fraction stays a float, for the validator to
    refuse by name."""

    def map_input_properties(self, inputs: Any, properties: dict[str, PropertyDefinition],
                             mapping: dict[str, str], component_name: str,
                             property_path: str) -> Any:
        mapped = dict(super().map_input_properties(inputs, properties, mapping, component_name,
                                                   property_path))
        for schema_name, prop in properties.items():
            python_name = mapping[schema_name]
            if python_name in mapped:
                mapped[python_name] = _integers(mapped[python_name], prop)
        return mapped


def _integers(value: Any, prop: PropertyDefinition) -> Any:
    if prop.type == PropertyType.INTEGER and isinstance(value, float) and value.is_integer():
        return int(value)
    if prop.items is not None and isinstance(value, list):
        return [_integers(item, prop.items) for item in value]
    if prop.additional_properties is not None and isinstance(value, dict):
        return {key: _integers(item, prop.additional_properties) for key, item in value.items()}
    return value


def package_version() -> str:
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0.0.0"


def provider() -> ShipyardProvider:
    return ShipyardProvider(COMPONENTS, PACKAGE, None, package_version())


if __name__ == "__main__":
    # What pulumi.provider.experimental.component_provider_host does, with the provider above:
    # serve on a free port, print it on stdout for the engine, wait for its calls.
    main(provider(), sys.argv[1:])
