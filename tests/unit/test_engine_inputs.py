"""The Python API checks references before it reads anything (the CLI checks them through the parameter spec)."""
from __future__ import annotations

import pytest

from shipline.deployment.engine import deploy, rollback
from shipline.errors import BadInput


def test_deploy_refuses_a_task_definition_that_is_no_reference_before_reading_the_config(tmp_path):
    with pytest.raises(BadInput, match="task_definition"):
        deploy(str(tmp_path / "missing.yaml"), environment="staging", task_definition="not an arn; rm -rf /")


def test_rollback_refuses_a_target_that_is_no_revision_before_reading_the_config(tmp_path):
    with pytest.raises(BadInput, match="invalid to"):
        rollback(str(tmp_path / "missing.yaml"), environment="staging", to="../../x")
