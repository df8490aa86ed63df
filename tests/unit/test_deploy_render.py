"""`shipline deploy` without --json prints a deploy of several services (deploy_many's result) as one line for
the command and one per service, as it prints a single deploy."""
from __future__ import annotations

from shipline.deployment.engine import render


def test_a_deploy_of_several_services_is_printed_one_line_per_service() -> None:
    result = {"decision": "succeeded", "reason": "2 services deployed", "services": {
        "web": {"decision": "succeeded", "reason": "healthy", "exit_code": 0, "record": "r/web.json"},
        "api": {"decision": "succeeded", "reason": "already running it", "exit_code": 0}}}
    assert render(result).splitlines() == ["succeeded: 2 services deployed",
                                           "  web: succeeded: healthy (record: r/web.json)",
                                           "  api: succeeded: already running it"]


def test_a_dry_run_of_several_services_names_what_each_would_do() -> None:
    result = {"dry_run": True, "would": "deploy 2 services, 2 at a time: web, api", "services": {
        "web": {"dry_run": True, "would": "update web"}, "api": {"dry_run": True, "would": "update api"}}}
    assert render(result).splitlines() == ["would deploy 2 services, 2 at a time: web, api",
                                           "  web: would update web", "  api: would update api"]
