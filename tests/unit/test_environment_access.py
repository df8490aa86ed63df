"""One place resolves the region and role of an environment's registry (publish, promote, scan-gate)."""
from __future__ import annotations

from pathlib import Path

import pytest

from shipline.config import load_config
from shipline.errors import BadInput
from shipline.image.ecr import environment_access

CONFIG = """\
version: 1
service: web
cluster: main
region: eu-west-1
image:
  repository: web
task_definition:
  from_service: true
environments:
  staging: {account_id: "123456789012"}
  production:
    account_id: "210987654321"
    region: us-east-1
    role_arn: arn:aws:iam::210987654321:role/deployer
"""


@pytest.fixture()
def cfg(tmp_path: Path):
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / "shipline.yaml").write_text(CONFIG)
    return load_config(tmp_path / "shipline.yaml").config


def test_an_environment_gives_its_region_and_role_else_the_top_level_region_and_ambient_credentials(cfg) -> None:
    assert environment_access(cfg, "production") == ("us-east-1", "arn:aws:iam::210987654321:role/deployer")
    assert environment_access(cfg, "staging") == ("eu-west-1", None)
    assert environment_access(cfg, None) == ("eu-west-1", None)
    assert environment_access(cfg, "") == ("eu-west-1", None)


def test_an_unknown_environment_is_bad_input_naming_it(cfg) -> None:
    with pytest.raises(BadInput, match="unknown environment 'qa'"):
        environment_access(cfg, "qa")
