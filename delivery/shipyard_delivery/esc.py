"""ESC environment definitions, kept as YAML files in the repository."""

from pathlib import Path

import yaml
from shipyard.errors import ConfigError

from .trust import ESC_SUBJECT_ATTRIBUTES

ESC_DIR = Path(__file__).resolve().parents[1] / "esc"


def aws_environment_yaml(role_arn: str, artifacts_registry: str, production: bool = False) -> str:
    template = yaml.safe_load((ESC_DIR / "aws.yaml").read_text())
    oidc = template["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]
    # The deploy role trusts the subject built from exactly these attributes.
    if tuple(oidc.get("subjectAttributes") or ()) != ESC_SUBJECT_ATTRIBUTES:
        raise ConfigError("delivery/esc/aws.yaml: subjectAttributes",
                          oidc.get("subjectAttributes"), f"{list(ESC_SUBJECT_ATTRIBUTES)}, the "
                          "attributes the deploy roles' trust policies pin")
    oidc["roleArn"] = role_arn
    # Stacks that import the environment deploy the artifacts stack's digests (the stack files
    # alone, and the offline preview, build locally).
    template["values"]["pulumiConfig"] = {
        "shipyard:artifacts_registry": artifacts_registry,
        # A production stack deploys only the digests a release passes (artifact_images.py).
        **({"shipyard:released_digests_required": "true"} if production else {})}
    return yaml.safe_dump(template, sort_keys=False)
