"""`shipyard rollback`: back to a previous release, by the normal path or the emergency one.

Which revision: `--to` a revision number (`6`, `family:6` or its ARN) or an image digest (the
newest ACTIVE revision of the service's family that runs it), else the revision of the newest
SUCCESSFUL service deployment (ListServiceDeployments, DescribeServiceRevisions) that is not the
one running now. Only ACTIVE revisions of the stack's own family qualify: ContainerService keeps
replaced revisions registered (`skip_destroy`), a deregistered one cannot start tasks.

The normal path redeploys the release that registered that revision, through delivery: the
same commit, so the same digest (its source tag is still in ECR) and the same gates (tests,
offline preview, policy group, the production approval), recorded in Pulumi's history. The
commit is the `git.head` of the update during which the revision was registered
(`pulumi stack history`). How it is redeployed depends on the stack's delivery settings
(delivery/Pulumi.org.yaml): a production stack through a GitHub release of that commit
(.github/workflows/release.yml), a stack deployed on merge through a revert on main
(.github/workflows/main.yml), a stack outside delivery by `pulumi up` at that commit.

The emergency path points the ECS service at the revision now (UpdateService), after tagging
the service with the marker of components/shipyard/drift.py, so the next `pulumi up` stops and
says so instead of rolling forward."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import yaml
from shipyard.drift import (
    MARKER_KEYS,
    EmergencyRollback,
    container_images,
    marker_tags,
    read_marker,
    revision_of,
)
from shipyard.errors import ConfigError

from .aws import Aws, AwsCallFailed
from .ecs_reads import describe_service, describe_task_definition, revision_name, tags_of
from .stack_outputs import ServiceOutputs, Update, update_that_registered

_DIGEST_RE = re.compile(r"(sha256:[0-9a-f]{64})$")
DELIVERY_SETTINGS = Path("delivery") / "Pulumi.org.yaml"
_DELIVERY = "shipyard-delivery"


@dataclass(frozen=True)
class Revision:
    arn: str
    number: int
    images: dict[str, str]
    registered_at: datetime | None
    source_version: str | None


def _revision(aws: Aws, arn: str) -> Revision:
    definition, tags = describe_task_definition(aws, arn)
    if definition.get("status") != "ACTIVE":
        raise ConfigError("--to", revision_name(arn),
                          f"an ACTIVE revision (it is {definition.get('status')}: deregistered "
                          "revisions cannot start tasks)")
    registered = definition.get("registeredAt")
    return Revision(arn=str(definition["taskDefinitionArn"]),
                    number=int(definition["revision"]), images=container_images(definition),
                    registered_at=registered if isinstance(registered, datetime) else None,
                    source_version=tags.get("source-version"))


def _by_digest(aws: Aws, service: ServiceOutputs, digest: str) -> Revision:
    family = service.task_definition_family
    for page in aws.pages("ecs", "ListTaskDefinitions", f"task definition family {family}",
                          familyPrefix=family, status="ACTIVE", sort="DESC"):
        for arn in page.get("taskDefinitionArns") or []:
            if revision_of(arn)[0] != family:
                continue  # familyPrefix also matches longer families
            candidate = _revision(aws, arn)
            if any(image.endswith("@" + digest) for image in candidate.images.values()):
                return candidate
    raise ConfigError("--to", digest, f"a digest one of the ACTIVE revisions of {family} runs")


def _last_successful(aws: Aws, service: ServiceOutputs, running: str) -> Revision:
    where = f"service {service.service_name} (cluster {service.cluster_name})"
    answer = aws.call("ecs", "ListServiceDeployments", where, cluster=service.cluster_arn,
                      service=service.service_name, status=["SUCCESSFUL"])
    briefs = sorted(answer.get("serviceDeployments") or [],
                    key=lambda d: d.get("finishedAt") or d.get("createdAt") or datetime.min
                    .replace(tzinfo=UTC), reverse=True)
    arns = [b["targetServiceRevisionArn"] for b in briefs if b.get("targetServiceRevisionArn")]
    if arns:
        revisions = aws.call("ecs", "DescribeServiceRevisions", where,
                             serviceRevisionArns=arns[:20]).get("serviceRevisions") or []
        by_arn = {r.get("serviceRevisionArn"): r.get("taskDefinition") for r in revisions}
        for arn in arns[:20]:
            definition = by_arn.get(arn)
            if definition and definition != running:
                return _revision(aws, str(definition))
    raise ConfigError("--to", None, "a revision or digest to go back to: ECS lists no earlier "
                      f"successful deployment of {service.service_name} than the one running")


def target_revision(aws: Aws, service: ServiceOutputs, to: str | None,
                    running: str) -> Revision:
    family = service.task_definition_family
    if to is None:
        return _last_successful(aws, service, running)
    digest = _DIGEST_RE.search(to.strip())
    if digest:
        return _by_digest(aws, service, digest.group(1))
    name_family, number = revision_of(to.strip())
    if to.strip().isdigit():
        name_family, number = family, int(to.strip())
    if number is None or name_family != family:
        raise ConfigError("--to", to, f"a revision of {family} (6, {family}:6 or its ARN) or an "
                          "image digest (sha256:...)")
    arn = service.task_definition_arn.rsplit(":", 1)[0] + f":{number}"
    return _revision(aws, arn)


def running_revision(service: dict) -> str:
    primary = next((d for d in service.get("deployments") or []
                    if d.get("status") == "PRIMARY"), service)
    return str(primary.get("taskDefinition") or service.get("taskDefinition", ""))


# --- the normal path -----------------------------------------------------------------------

@dataclass(frozen=True)
class Delivery:
    production: bool
    push_to_deploy: bool
    repository: str | None


def delivery_of(project_dir: Path | None, stack: str) -> Delivery | None:
    """The stack's delivery settings, if the project has a delivery project that names it."""
    if project_dir is None or not (project_dir / DELIVERY_SETTINGS).is_file():
        return None
    try:
        config = (yaml.safe_load((project_dir / DELIVERY_SETTINGS).read_text()) or {}).get(
            "config") or {}
    except yaml.YAMLError as error:
        raise ConfigError(str(DELIVERY_SETTINGS), "unreadable", f"valid YAML ({error})") from None
    stacks = config.get(f"{_DELIVERY}:stacks") or {}
    settings = stacks.get(stack) if isinstance(stacks, dict) else None
    if not isinstance(settings, dict):
        return None
    return Delivery(production=settings.get("production") is True,
                    push_to_deploy=settings.get("push_to_deploy") is True,
                    repository=config.get(f"{_DELIVERY}:github_repository"))


@dataclass(frozen=True)
class NormalRollback:
    revision: Revision
    update: Update
    steps: list[str]
    """What to run, in order, each a line a person can paste."""
    explanation: str
    release_command: list[str] | None
    """The `gh release create` argv, when the path is a release (what --submit runs)."""


def plan_normal(*, stack: str, service: ServiceOutputs, revision: Revision,
                history: list[Update], delivery: Delivery | None,
                now: datetime) -> NormalRollback:
    if revision.registered_at is None:
        raise ConfigError("--to", revision.number, "a revision ECS records a registration time "
                          "for")
    update = update_that_registered(history, revision.registered_at)
    if update is None or update.commit is None:
        raise ConfigError(
            "--to", revision.number,
            f"a revision a recorded `pulumi up` of {stack} registered (none of its updates ran "
            f"at {revision.registered_at.isoformat()} with a git commit): it did not come "
            "through this stack's history, so there is no release to redeploy; use --emergency "
            "to point the service at it, or redeploy a known commit")
    if update.result != "succeeded":
        raise ConfigError("--to", revision.number,
                          f"a revision from a successful update (update {update.version} at "
                          f"commit {update.commit[:12]} ended {update.result}: ECS did not "
                          "finish that deployment)")
    commit = update.commit
    name = f"{stack} {service.name}"
    if delivery is not None and delivery.production:
        tag = f"rollback-{stack}-{service.name}-r{revision.number}-{now.strftime('%Y%m%d%H%M')}"
        command = ["gh", "release", "create", tag, "--target", commit,
                   "--title", f"Roll back {name} to revision {revision.number}",
                   "--notes", (f"Redeploys commit {commit} (update {update.version}), which "
                              f"registered {revision_name(revision.arn)}.")]
        if delivery.repository:
            command[3:3] = ["--repo", delivery.repository]
        return NormalRollback(
            revision, update, [" ".join(_quoted(c) for c in command)],
            "Publishing that release runs .github/workflows/release.yml: it checks staging "
            "deployed the commit, waits for the production environment's reviewers, and starts "
            f"a Pulumi Deployments update of {stack} at the commit (pre-run gate, policy group), "
            "which deploys the digest that commit built; `pulumi stack history` records it.",
            command)
    if delivery is not None and delivery.push_to_deploy:
        branch = f"rollback-{stack}-{service.name}-r{revision.number}"
        return NormalRollback(
            revision, update, [
                "git fetch origin",
                f"git switch -c {branch} origin/main",
                f"git revert --no-edit {commit}..origin/main",
                f"git push -u origin {branch}   # then merge its pull request"],
            f"{stack} deploys what main holds (.github/workflows/main.yml): the revert brings "
            f"main back to commit {commit[:12]}, whose source hashes to the image tag already "
            "in ECR (nothing is rebuilt), and the merge deploys it through the same tests, "
            "preview and policy group; `pulumi stack history` records it.", None)
    return NormalRollback(
        revision, update, [f"git switch --detach {commit}", f"pulumi up --stack {stack}"],
        f"{stack} is not deployed by the delivery project: `pulumi up` at the commit that "
        "registered the revision deploys the same digest (its source hashes to the tag already "
        "in ECR) through the policy pack, and `pulumi stack history` records it.", None)


def _quoted(word: str) -> str:
    import shlex

    return shlex.quote(word)


def render_normal(plan: NormalRollback, *, service: ServiceOutputs, running: str) -> str:
    revision, update = plan.revision, plan.update
    images = ", ".join(f"{c} {i.rsplit('@', 1)[-1]}" for c, i in sorted(revision.images.items()))
    lines = [
        (f"{service.name}: back to {revision_name(revision.arn)} (running now: "
        f"{revision_name(running)})"),
        f"  images          {images}",
        f"  source-version  {revision.source_version or '(no tag)'}",
        (f"  registered by   update {update.version} at commit {update.commit} "
        f"({update.started.strftime('%Y-%m-%dT%H:%M:%SZ')})"),
        "Normal path, through delivery:",
        *[f"  {step}" for step in plan.steps],
        *_wrap(plan.explanation),
        (f"In a hurry? `shipyard rollback <stack> {service.name} --to {revision.number} "
        "--emergency` points the service at it now and marks the stack as drifted."),
    ]
    return "\n".join(lines) + "\n"


def _wrap(text: str, width: int = 96) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width=width, initial_indent="  ", subsequent_indent="  ")


# --- the emergency path --------------------------------------------------------------------

def emergency(aws: Aws, service: ServiceOutputs, live: dict, revision: Revision,
              now: datetime) -> EmergencyRollback:
    running = running_revision(live)
    _, current = revision_of(running)
    if running == revision.arn:
        raise ConfigError("--to", revision.number, f"another revision than the one "
                          f"{service.service_name} already runs")
    caller = aws.call("sts", "GetCallerIdentity", "the current credentials")
    marker = EmergencyRollback(revision=revision.number, from_revision=current,
                               by=str(caller.get("Arn", "unknown")),
                               at=now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    where = f"service {service.service_name} (cluster {service.cluster_name})"
    # The marker first: if the update is refused, nothing runs differently and the marker,
    # which binds only while the service runs its revision, is removed again.
    aws.call("ecs", "TagResource", where, resourceArn=live["serviceArn"],
             tags=marker_tags(marker))
    try:
        aws.call("ecs", "UpdateService", where, cluster=service.cluster_arn,
                 service=service.service_name, taskDefinition=revision.arn)
    except AwsCallFailed as refused:
        try:
            aws.call("ecs", "UntagResource", where, resourceArn=live["serviceArn"],
                     tagKeys=list(MARKER_KEYS))
        except AwsCallFailed as untag_failed:
            # It binds only while the service runs the revision, which it does not: harmless,
            # but say so.
            raise AwsCallFailed(f"{refused}; the marker tags stay on the service "
                                f"({untag_failed})") from None
        raise
    return marker


def render_emergency(marker: EmergencyRollback, *, stack: str, service: ServiceOutputs,
                     revision: Revision) -> str:
    family = service.task_definition_family
    name = service.name
    return "\n".join([
        (f"{name}: ECS is deploying {family}:{marker.revision} now (it ran "
         f"{family}:{marker.from_revision}); marked as an emergency rollback by {marker.by} at "
         f"{marker.at}."),
        f"  watch it        shipyard status {stack} {name}",
        f"  the next `pulumi up` of {stack} stops before touching the service, until either:",
        (f"  1. permanent    shipyard rollback {stack} {name} --to {revision.number}   (the "
         "normal path: redeploy that release through delivery), or"),
        (f"  2. roll forward shipyard rollback {stack} {name} --clear-emergency, then `pulumi "
         "up` (deploys what the stack says)"),
    ]) + "\n"


def clear_emergency(aws: Aws, service: ServiceOutputs) -> EmergencyRollback | None:
    live = describe_service(aws, service)
    marker = read_marker(tags_of(live))
    if marker is None:
        return None
    aws.call("ecs", "UntagResource", f"service {service.service_name} (cluster "
             f"{service.cluster_name})", resourceArn=live["serviceArn"],
             tagKeys=list(MARKER_KEYS))
    return marker

