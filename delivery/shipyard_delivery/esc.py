"""ESC environment definitions, kept as YAML files in the repository."""

from pathlib import Path

import yaml

ESC_DIR = Path(__file__).resolve().parents[1] / "esc"


def aws_environment_yaml(role_arn: str) -> str:
    template = yaml.safe_load((ESC_DIR / "aws.yaml").read_text())
    template["values"]["aws"]["login"]["fn::open::aws-login"]["oidc"]["roleArn"] = role_arn
    return yaml.safe_dump(template, sort_keys=False)
