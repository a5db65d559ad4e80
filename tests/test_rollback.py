"""Rollback by redeploying a previous commit: its source maps back to the image already in ECR
(same tag, same digest), so nothing is built and the lifecycle policy has kept it."""

import shutil

from conftest import PROJECT, one, run_stack, services_of
from shipyard.container_service import lifecycle_policy
from shipyard.image import source_fingerprint, source_tag


def test_previous_source_maps_back_to_its_retained_image(tmp_path):
    source = tmp_path / "app"
    shutil.copytree(PROJECT / "app", source)
    services = services_of("staging")
    services[0]["containers"][0]["source"] = str(source)

    def deploy():
        recording = run_stack("staging", shipyard__services=services)
        return (one(recording, "docker:index/image:Image")["imageName"],
                recording.outputs["web_image_digests"]["web"])

    v1_image, v1_digest = deploy()
    original = (source / "server.py").read_text()
    (source / "server.py").write_text(original + "\n# release 2\n")
    v2_image, v2_digest = deploy()
    (source / "server.py").write_text(original)  # git checkout of the previous commit
    back_image, back_digest = deploy()

    assert v2_image != v1_image and v2_digest != v1_digest
    assert (back_image, back_digest) == (v1_image, v1_digest)
    assert back_image.endswith(":" + source_tag(source_fingerprint(
        source, platform="linux/arm64")))  # staging runs prod's architecture
    # The image survives: tagged src-* images are kept (the last N), only untagged ones expire.
    keep = lifecycle_policy(10)["rules"][1]["selection"]
    assert keep["tagPatternList"] == ["src-*"] and keep["countNumber"] == 10
