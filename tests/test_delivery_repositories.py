"""GIVEN the delivery project WHEN it writes its IAM THEN every ECR repository it names is an exact
ARN derived from the stack files (each service container built from source) by the function the
component and the artifacts stack name their repositories with, so the product rule
`iam-no-wildcard-ecr-resource` (any wildcard character in an ECR resource) passes, and a stack
that gains a service gains exact ARNs for it, never a pattern."""

import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT, SAMPLE, committed_stack_config, inputs
from delivery_mocks import delivery_run
from shipyard.repository_names import artifact_repository_name, repository_arn, repository_name

from shipyard_preview.analyzer import analyze

ACCOUNT, REGION = "111122223333", "eu-west-1"
POLICY_TYPES = ("aws:iam/policy:Policy", "aws:iam/rolePolicy:RolePolicy")


PROD_ACCOUNT = "444455556666"  # the example organization: prod's own account


def arn(name: str, account: str = ACCOUNT) -> str:
    return repository_arn(region=REGION, account=account, name=name)


def ecr_resources(recording) -> dict[tuple[str, str], list[str]]:
    """(policy, Sid) -> Resource of every Allow statement with an ECR action."""
    found = {}
    for type_token in POLICY_TYPES:
        for name, policy in inputs(recording, type_token).items():
            for statement in json.loads(policy["policy"])["Statement"]:
                actions = statement["Action"]
                actions = [actions] if isinstance(actions, str) else actions
                if statement["Effect"] == "Allow" and any(
                        a.lower().startswith("ecr:") for a in actions):
                    resource = statement["Resource"]
                    found[(name, statement["Sid"])] = ([resource] if isinstance(resource, str)
                                                       else resource)
    return found


def expected_repositories(built: Mapping[str, list[tuple[str, str]]],
                          prebuilt: Mapping[str, Sequence[str]] | None = None
                          ) -> dict[tuple[str, str], list[str]]:
    """`built`: per stack, (service, container) of what its stack file builds from source (a
    service may be in one stack only); `prebuilt`: per stack, the repositories of its stack
    file's prebuilt ECR images, which its execution roles pull from too (its account's
    workload boundary names them, exactly)."""
    prebuilt = prebuilt or {}
    every = list(dict.fromkeys(pair for stack in ("staging", "prod") for pair in built[stack]))
    artifacts = [arn(artifact_repository_name("shipyard", s, c)) for s, c in every]

    def own(stack: str) -> list[str]:
        account = PROD_ACCOUNT if stack == "prod" else ACCOUNT
        return [arn(repository_name("shipyard", stack, s, c), account) for s, c in built[stack]]

    return {
        ("workload-boundary", "EcrToken"): ["*"],
        ("workload-boundary", "PullOwnImages"): [*own("staging"), *artifacts,
                                                 *prebuilt.get("staging", ())],
        (f"workload-boundary-{PROD_ACCOUNT}", "EcrToken"): ["*"],
        (f"workload-boundary-{PROD_ACCOUNT}", "PullOwnImages"): [*own("prod"), *artifacts,
                                                                 *prebuilt.get("prod", ())],
        **{key: value for stack in ("staging", "prod") for key, value in {
            (f"deploy-{stack}-storage", "EcrToken"): ["*"],
            (f"deploy-{stack}-storage", "ReadArtifacts"): artifacts,
            **{(f"deploy-{stack}-storage", f"Repositories{kind}"): own(stack)
               for kind in ("", "Tagged", "TaggedTags", "TaggedOnCreate")}}.items()},
        **{(name, sid): resources for name in ("preview-readonly",
                                               f"preview-readonly-{PROD_ACCOUNT}")
           for sid, resources in (("EcrTokenForTheImageRegistry", ["*"]),
                                  ("ArtifactDigests", artifacts))},
        ("artifacts-builder", "EcrToken"): ["*"],
        ("artifacts-builder", "PushToArtifactRepositories"): artifacts,
    }


def mandatory(recording) -> list[tuple[str, str]]:
    run = analyze(recording, PROJECT / "policy")
    return [(v.policy, v.urn.rsplit("::", 1)[-1]) for v in run.verdicts
            if v.enforcement_level == "mandatory"]


def test_the_committed_stacks_get_exact_repository_arns_and_pass_the_pack():
    recording = delivery_run()
    # The committed stacks' containers built from source (the sample's web/web).
    services = {stack: json.loads(committed_stack_config(stack).config["shipyard:services"])
                for stack in ("staging", "prod")}
    built = {stack: list(dict.fromkeys((service["name"], container["name"])
                                       for service in listed for container in service["containers"]
                                       if "source" in container))
             for stack, listed in services.items()}
    # An adopting team's prebuilt image in a private ECR registry (<account>.dkr.ecr...).
    prebuilt = {stack: list(dict.fromkeys(
        f"arn:aws:ecr:{image.split('.')[3]}:{image.split('.')[0]}:repository/"
        f"{image.split('/', 1)[1].split('@')[0].split(':')[0]}"
        for service in listed for container in service["containers"]
        if ".dkr.ecr." in (image := container.get("image", ""))))
        for stack, listed in services.items()}
    assert ecr_resources(recording) == expected_repositories(built, prebuilt)
    assert mandatory(recording) == []


@pytest.fixture
def stacks_with_a_new_service(tmp_path: Path) -> Path:
    """The sample staging and prod stack files, each with a second service built from source
    (two containers), with their policy levels: an application project the delivery program
    reads instead of the committed one (`app_dir`)."""
    for stack in ("staging", "prod"):
        document = yaml.safe_load((SAMPLE / f"Pulumi.{stack}.yaml").read_text())
        document["config"]["shipyard:services"].append({
            "name": "api", "containers": [{"name": "api", "source": "services/api"},
                                          {"name": "worker", "source": "services/worker"}]})
        (tmp_path / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump(document))
        (tmp_path / "policy").mkdir(exist_ok=True)
        (tmp_path / "policy" / f"config.{stack}.json").write_text(
            (PROJECT / "policy" / f"config.{stack}.json").read_text())
    return tmp_path


def test_a_stack_gaining_a_service_gets_exact_arns_for_it(stacks_with_a_new_service):
    recording = delivery_run(app_dir=str(stacks_with_a_new_service))
    resources = ecr_resources(recording)
    assert resources == expected_repositories(
        {stack: [("web", "web"), ("api", "api"), ("api", "worker")]
         for stack in ("staging", "prod")})
    # No wildcard character anywhere but the registry-wide token call.
    assert [(key, r) for key, listed in resources.items() for r in listed
            if r != "*" and any(ch in r for ch in "*?")] == []
    assert all(listed == ["*"] for (_, sid), listed in resources.items()
               if sid.startswith("EcrToken"))
    assert mandatory(recording) == []
