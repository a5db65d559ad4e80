"""The component provider: serves ContainerService and its helpers to every Pulumi language.

`pulumi package add ./components` runs this file through the Python language host (PulumiPlugin.yaml
names the runtime) and asks it for its schema, which Pulumi infers from the args TypedDicts and
the components' output annotations (pulumi/provider/experimental/analyzer.py)."""

from importlib.metadata import PackageNotFoundError, version

from pulumi.provider.experimental import component_provider_host
from shipyard import AccessLogBucket, ContainerService, FargateCluster

PACKAGE = "shipyard"
# Network is not served yet: schema inference needs an `args` TypedDict in its __init__, and it
# still takes keyword arguments.
COMPONENTS = [ContainerService, FargateCluster, AccessLogBucket]


def package_version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "0.0.0"


if __name__ == "__main__":
    component_provider_host(COMPONENTS, name=PACKAGE, version=package_version())
