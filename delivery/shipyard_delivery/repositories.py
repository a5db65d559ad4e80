"""The exact ECR repository ARNs delivery's policies name: the artifacts stack's and each app
stack's, named by the same functions the component uses."""

from collections.abc import Mapping
from dataclasses import dataclass

from shipyard.repository_names import artifact_repository_name, repository_arn, repository_name

from .app_stacks import AppStack
from .settings import DeliverySettings


@dataclass(frozen=True)
class ArtifactRepository:
    service: str
    container: str
    name: str


def artifact_repositories(settings: DeliverySettings,
                          app_stacks: Mapping[str, AppStack]) -> list[ArtifactRepository]:
    """One repository per service container built from source in any delivered stack."""
    built = dict.fromkeys(pair for s in settings.stacks
                          for pair in app_stacks[s.name].built_containers)
    return [ArtifactRepository(service, container,
                               artifact_repository_name(settings.app_project, service, container))
            for service, container in built]


def artifact_repository_arns(settings: DeliverySettings,
                             app_stacks: Mapping[str, AppStack]) -> list[str]:
    """The artifacts stack's repositories, one exact ARN per service container built from source
    in any delivered stack (`<project>/<service>/<container>`, in the delivery account)."""
    return [repository_arn(region=settings.aws_region, account=settings.aws_account_id,
                           name=repository.name)
            for repository in artifact_repositories(settings, app_stacks)]


def stack_repository_arns(settings: DeliverySettings, stack: str, account: str,
                          app: AppStack) -> list[str]:
    """The repositories a stack's ContainerServices create for their containers built from
    source (a developer's local `pulumi up`; delivered stacks deploy the artifacts' digests),
    named by the same function the component uses, so each ARN is exact."""
    return [repository_arn(region=settings.aws_region, account=account,
                           name=repository_name(settings.app_project, stack, service, container))
            for service, container in app.built_containers]
