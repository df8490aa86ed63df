"""ImageRef: the one parser of `[registry/]repository@sha256:<digest>`."""
from __future__ import annotations

import pytest

from shipline.errors import BadInput
from shipline.imageref import ImageRef, is_digest, registry_and_repository

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize("value", [
    "web@sha256:",
    "web:1.2.3",
    f"web@{DIGEST[:-1]}",
    f"Web@{DIGEST}",
    f"web@{DIGEST.upper()}",
    f"@{DIGEST}",
    f"web@{DIGEST} ",
    DIGEST,
])
def test_parse_refuses_what_is_not_an_image_by_digest_naming_the_input(value: str) -> None:
    with pytest.raises(BadInput) as raised:
        ImageRef.parse(value, "image")
    assert raised.value.problems[0].path == "image"
    assert repr(value) in raised.value.message
    assert ImageRef.find(value) is None


@pytest.mark.parametrize(("value", "registry", "repository"), [
    (f"123456789012.dkr.ecr.us-east-1.amazonaws.com/team/web@{DIGEST}",
     "123456789012.dkr.ecr.us-east-1.amazonaws.com", "team/web"),
    (f"127.0.0.1:5000/web@{DIGEST}", "127.0.0.1:5000", "web"),
    (f"localhost/web@{DIGEST}", "localhost", "web"),
    (f"team/web@{DIGEST}", None, "team/web"),
    (f"web@{DIGEST}", None, "web"),
])
def test_parse_splits_registry_repository_and_digest_and_str_round_trips(value: str, registry: str | None,
                                                                         repository: str) -> None:
    ref = ImageRef.parse(value)
    assert (ref.registry, ref.repository, ref.digest) == (registry, repository, DIGEST)
    assert str(ref) == value
    assert ImageRef.parse(str(ref)) == ref


def test_digests_and_repositories_of_any_reference() -> None:
    assert is_digest(DIGEST) and not is_digest(f"web@{DIGEST}") and not is_digest("sha256:abc")
    assert registry_and_repository("public.ecr.aws/appmesh/envoy:v1.27") == ("public.ecr.aws", "appmesh/envoy")
    assert registry_and_repository(f"team/web:1@{DIGEST}") == (None, "team/web")
    assert registry_and_repository("busybox") == (None, "busybox")
    assert registry_and_repository("not an image") is None
