"""Pulumi Deployments settings per stack, as plain arguments for
`pulumiservice.DeploymentSettings` (the `vcs` block, not the deprecated `github` one)."""

from pulumi import Input

from .settings import DeliverySettings, StackDelivery

UV_VERSION = "0.13.9"
# A change to any of these can change what a stack deploys.
DEPLOY_PATHS = ("__main__.py", "stack_settings.py", "Pulumi.yaml", "Pulumi.{stack}.yaml",
                "components/**", "policy/**", "app/**", "pyproject.toml", "uv.lock")


def pre_run_commands(stack: str) -> list[str]:
    """The gate before any `up`: install from the lock file, run the tests and the offline
    preview (which runs the policy pack); a failure stops the deployment."""
    return [
        f"python3 -m pip install --quiet 'uv=={UV_VERSION}'",
        "uv sync --locked --group dev",
        ".venv/bin/python -m pytest -q -p no:cacheprovider",
        f".venv/bin/shipyard preview {stack}",
    ]


def deployment_settings_args(settings: DeliverySettings, stack: StackDelivery,
                             deploy_role_arn: Input[str]) -> dict:
    return {
        "organization": settings.pulumi_org,
        "project": settings.app_project,
        "stack": stack.name,
        "source_context": {"git": {
            "repo_url": f"https://github.com/{settings.github_repository}.git",
            "branch": f"refs/heads/{stack.branch}", "repo_dir": "."}},
        "vcs": {
            "provider": "github", "repository": settings.github_repository,
            "deploy_commits": stack.push_to_deploy,
            "preview_pull_requests": True,
            "paths": [p.format(stack=stack.name) for p in DEPLOY_PATHS]},
        "operation_context": {
            "pre_run_commands": pre_run_commands(stack.name),
            # Dependencies come from the lock file in pre-run; the CLI must not reinstall.
            "options": {"skip_install_dependencies": True},
            "oidc": {"aws": {"role_arn": deploy_role_arn,
                             "session_name": f"pulumi-deploy-{stack.name}",
                             "duration": "1h0m0s"}}},
        "cache_options": {"enable": True},
    }
