"""`shipline local up | down | status | env`: ready fast, idempotent, and down leaves nothing behind."""
from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from helpers import run_cli, shipline_exe
from shipline.local import procs
from shipline.local.constants import CONTAINER_LABEL, WORLD_LABEL


def _listening_ports() -> set[int]:
    """TCP ports in LISTEN state on this machine, from /proc."""
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _processes_mentioning(text: str) -> list[int]:
    """PIDs whose command line mentions `text` (from /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and text in (proc / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc.name))
        except OSError:
            continue
    return found


@pytest.fixture
def local_env(tmp_path: Path):
    """A state dir for `shipline local`; whatever the test leaves running is stopped afterwards."""
    env = {"SHIPLINE_LOCAL_DIR": str(tmp_path / "local")}
    yield env
    run_cli("local", "down", env=env)


def test_up_status_env_down_leaves_nothing_behind(local_env: dict, docker_engine) -> None:
    env = local_env
    start = time.monotonic()
    up = run_cli("local", "up", "--json", "--alias-ttl", "20", "--metric-period", "0.5", env=env)
    ready = time.monotonic() - start
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)["result"]
    assert state["started"] is True and ready < 10
    assert (state["time_scale"], state["alias_ttl"], state["metric_period"]) == (0.1, 20, 0.5)
    dns_address = state["env"]["SHIPLINE_LOCAL_DNS"]
    ports = {int(address.rsplit(":", 1)[1]) for address in (state["moto"]["endpoint"], state["registry"]["url"],
                                                            dns_address)}
    pids = [state["pid"], state["registry"]["pid"]]
    assert ports <= _listening_ports()

    again = json.loads(run_cli("local", "up", "--json", env=env).stdout)["result"]
    assert again["started"] is False and again["pid"] == state["pid"]  # idempotent

    status = run_cli("local", "status", "--json", env=env)
    assert status.returncode == 0, status.stderr
    parts = json.loads(status.stdout)["result"]["parts"]
    assert all(part["ok"] for part in parts)
    assert {"name": "dns", "ok": True, "detail": dns_address} in parts

    exports = run_cli("local", "env", env=env).stdout
    shell = subprocess.run(["bash", "-c", exports + '\necho "$AWS_ENDPOINT_URL $AWS_REGION $SHIPLINE_LOCAL_DNS $SHIPLINE_TIME_SCALE"'],
                           capture_output=True, text=True, check=True)
    assert shell.stdout.split() == [state["moto"]["endpoint"], "us-east-1", dns_address, "0.1"]
    _an_alias_resolves_with_the_alias_ttl(state["env"])
    doctor = run_cli("doctor", "--no-docker", env={**env, **state["env"]})
    assert doctor.returncode == 0, doctor.stderr
    import boto3

    local_env = state["env"]
    sts = boto3.client("sts", endpoint_url=local_env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                       aws_access_key_id="x", aws_secret_access_key="y")
    creds = sts.assume_role(RoleArn="arn:aws:iam::210987654321:role/r", RoleSessionName="test")["Credentials"]
    boto3.client("ecr", endpoint_url=local_env["AWS_ENDPOINT_URL"], region_name="eu-west-1",
                 aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                 aws_session_token=creds["SessionToken"]).create_repository(repositoryName="other/app")
    started = _processes_mentioning(env["SHIPLINE_LOCAL_DIR"])
    assert len(started) >= 3  # the daemon and the registries of two accounts

    assert run_cli("local", "down", "--dry-run", env=env).returncode == 0
    assert all(procs.alive(pid) for pid in pids)  # a dry run stops nothing
    down = run_cli("local", "down", env=env)
    assert down.returncode == 0, down.stderr
    assert not any(procs.alive(pid) for pid in pids)
    assert _processes_mentioning(env["SHIPLINE_LOCAL_DIR"]) == []
    assert not ports & _listening_ports()
    assert docker_engine.containers.list(all=True, filters={"label": f"{WORLD_LABEL}={state['world_id']}"}) == []
    gone = run_cli("local", "status", env=env)
    assert gone.returncode == 3 and "start it with 'shipline local up'" in gone.stderr


def _an_alias_resolves_with_the_alias_ttl(env: dict[str, str]) -> None:
    """The daemon's DNS answers an alias to its load balancer, with --alias-ttl 20 at time scale 0.1: 2 s."""
    import boto3
    import dns.message
    import dns.query

    def client(service: str):
        return boto3.client(service, endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                            aws_access_key_id="x", aws_secret_access_key="y")

    subnets = [s["SubnetId"] for s in client("ec2").describe_subnets()["Subnets"]][:2]
    balancer = client("elbv2").create_load_balancer(Name="web", Subnets=subnets)["LoadBalancers"][0]
    route53 = client("route53")
    zone = route53.create_hosted_zone(Name="local.test", CallerReference="up")["HostedZone"]["Id"]
    route53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{"Action": "CREATE",
        "ResourceRecordSet": {"Name": "www.local.test", "Type": "A", "AliasTarget": {
            "HostedZoneId": balancer["CanonicalHostedZoneId"], "DNSName": balancer["DNSName"],
            "EvaluateTargetHealth": False}}}]})
    host, port = env["SHIPLINE_LOCAL_DNS"].split(":")
    answer = dns.query.udp(dns.message.make_query("www.local.test", "A"), host, port=int(port), timeout=5).answer
    assert [(rrset.ttl, [item.address for item in rrset]) for rrset in answer] == [(2, [balancer["DNSName"]])]


def test_down_on_a_busy_machine_stops_everything(local_env: dict, busy_cores: None) -> None:
    up = run_cli("local", "up", "--json", env=local_env, timeout=150)
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)["result"]
    down = run_cli("local", "down", env=local_env, timeout=90)
    assert down.returncode == 0, down.stderr
    assert not any(procs.alive(pid) for pid in (state["pid"], state["registry"]["pid"]))
    assert _processes_mentioning(local_env["SHIPLINE_LOCAL_DIR"]) == []


def test_down_after_the_daemon_was_killed_removes_what_it_left(local_env: dict, docker_engine,
                                                              busybox_image: str) -> None:
    """kill -9 of the daemon: its registry and its world's containers are left; down ends them all."""
    up = run_cli("local", "up", "--json", env=local_env)
    assert up.returncode == 0, up.stderr
    state = json.loads(up.stdout)["result"]
    container = docker_engine.containers.run(busybox_image, ["sleep", "600"], detach=True, labels={
        CONTAINER_LABEL: "ecs-task", WORLD_LABEL: state["world_id"]})
    os.kill(state["pid"], 9)
    procs.wait_until(lambda: not procs.alive(state["pid"]), "the killed daemon", 10)
    down = run_cli("local", "down", env=local_env)
    assert down.returncode == 0, down.stderr
    assert not procs.alive(state["registry"]["pid"])
    assert _processes_mentioning(local_env["SHIPLINE_LOCAL_DIR"]) == []
    assert docker_engine.containers.list(all=True, filters={"id": container.id}) == []


def test_foreground_stops_everything_on_ctrl_c(tmp_path: Path) -> None:
    directory = tmp_path / "local"
    proc = subprocess.Popen([str(shipline_exe()), "local", "up", "--foreground"],
                            env={**os.environ, "SHIPLINE_LOCAL_DIR": str(directory)},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    procs.wait_until(lambda: (directory / "state.json").exists(), "foreground world", 60, proc)
    state = json.loads((directory / "state.json").read_text())
    proc.send_signal(2)  # SIGINT, as Ctrl-C sends
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert not procs.alive(state["registry"]["pid"])
    assert not (directory / "state.json").exists()
