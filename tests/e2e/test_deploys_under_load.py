"""Zero failed requests while shipline deploys a good release: 200 requests/s through an emulated
listener in front of the sample service for the whole of a rolling deploy (v1 -> v2) and a doubling one
(v2 -> v3), each judged through its stability window. New tasks get requests only once healthy; old ones
drain (deregistration delay) before ECS stops them, so no request is refused, cut or answered 5xx."""
from __future__ import annotations

import threading
import time

from deploying import bootstrapped, config_of, listener_in_front, with_deploy_settings
from shipline.deployment.engine import deploy
from shipline.local.traffic.load import Load
from shipline.local.traffic.summary import summarise
from shipline.local.traffic.target import parse

RATE, SECONDS = 200, 90


def test_rolling_and_doubling_deploys_of_a_good_release_fail_no_request(aws, boto, sample_app, push_variant):
    aws.ecs.time_scale = 0.1
    with_deploy_settings(sample_app, "timeout: 2m\ndesired_count: 2\nbake_time: 5s\ncircuit_breaker: false")
    v1, v2, v3 = push_variant("v1"), push_variant("v2"), push_variant("v3")
    bootstrapped(sample_app, boto, v1)
    _, _, served = listener_in_front(aws, boto)

    load = Load(parse(f"{served.url}/"), rps=RATE, seconds=SECONDS)
    generator = threading.Thread(target=load.run)
    generator.start()
    time.sleep(5)
    began = time.monotonic()
    rolled = deploy(config_of(sample_app), environment="staging", image=v2)
    doubled = deploy(config_of(sample_app), environment="staging", image=v3, strategy="doubling")
    took = time.monotonic() - began
    generator.join()

    assert rolled["decision"] == doubled["decision"] == "succeeded"
    assert took < SECONDS - 10, f"the deploys took {took:.0f}s: the load did not cover them"
    summary = summarise(load)
    print(f"{summary['sent']} requests at {RATE}/s while two deploys took {took:.0f}s: statuses "
          f"{summary['statuses']}, errors {summary['errors']}, latency {summary['latency_ms']}, late "
          f"{summary['late']}, by revision {[(r['revision'], r['requests']) for r in summary['revisions']]}")
    assert (summary["sent"], summary["unsent"], summary["statuses"]) == (RATE * SECONDS, 0, {"200": RATE * SECONDS})
    assert {row["revision"] for row in summary["revisions"]} == {"v1", "v2", "v3"}
