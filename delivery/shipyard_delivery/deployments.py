"""Pulumi Deployments settings per stack, as plain arguments for
`pulumiservice.DeploymentSettings` (the `vcs` block, not the deprecated `github` one).

Deployments never starts a run on its own here: the merge workflow starts staging once the
artifact exists, the release workflow starts prod. No stack previews pull requests through
Deployments, because a Deployments preview runs the pull request's code with the stack's
credentials; pull requests are previewed by GitHub Actions with a read-only role instead."""

from .app_stacks import AppStack, deploy_paths
from .settings import DeliverySettings, StackDelivery

UV_VERSION = "0.13.9"
# The Pulumi CLI every path uses: the Deployments executor image, the workflows' pulumi/actions
# (`pulumi-version`) and the artifacts job. One constant; tests/test_workflows.py holds them equal.
PULUMI_CLI_VERSION = "3.272.0"
# A custom executor image pins the CLI (Pulumi docs, "Custom executor images").
EXECUTOR_IMAGE = f"pulumi/pulumi:{PULUMI_CLI_VERSION}"


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
                             app_stack: AppStack) -> dict:
    review = settings.review_stacks and not stack.production
    return {
        "organization": settings.pulumi_org,
        "project": settings.app_project,
        "stack": stack.name,
        # The repository comes from `vcs`; a `repo_url` beside it is ignored or conflicts.
        "source_context": {"git": {"branch": f"refs/heads/{stack.branch}", "repo_dir": "."}},
        "vcs": {
            "provider": "github", "repository": settings.github_repository,
            "deploy_commits": False,
            "preview_pull_requests": False,
            # A review stack per pull request (destroyed when it closes) copies this stack's
            # settings; never prod's.
            "pull_request_template": review,
            "paths": deploy_paths([app_stack])},
        "executor_context": {"executor_image": EXECUTOR_IMAGE},
        "operation_context": {
            "pre_run_commands": pre_run_commands(stack.name),
            # Dependencies come from the lock file in pre-run; the CLI must not reinstall.
            # AWS credentials come only from the stack's ESC environment (no `oidc` block).
            "options": {"skip_install_dependencies": True}},
        "cache_options": {"enable": True},
    }


def request_contexts(settings: DeliverySettings, stack: StackDelivery, app_stack: AppStack) -> dict:
    """What delivery/run_deployment.py sends with every deployment request of the stack, in the
    REST API's shape (Pulumi Cloud REST API, "Create deployment": operationContext,
    executorContext.executorImage.reference): the same pre-run gate and image the stored
    settings hold, so a settings change made outside this project does not reach a run."""
    return {"operationContext": {"preRunCommands": pre_run_commands(stack.name),
                                 "options": {"skipInstallDependencies": True}},
            "executorContext": {"executorImage": {"reference": EXECUTOR_IMAGE}},
            # What the release compares a released commit with the deployed one on.
            "paths": deploy_paths([app_stack])}
