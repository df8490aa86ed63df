"""Where the load generator may send: http:// URLs to loopback addresses only, named in every refusal."""
from __future__ import annotations

import pytest

from shipline.errors import BadInput
from shipline.local.traffic.target import NotLoopback, checked, is_loopback, parse
from shipline.params import Param


def unresolvable(name: str) -> str:
    raise OSError(f"no address for {name}")


@pytest.mark.parametrize(("url", "words"), [
    ("https://127.0.0.1/", "only http://"),
    ("ftp://127.0.0.1/", "only http://"),
    ("127.0.0.1:8080/", "only http://"),
    ("http:///path", "no host"),
    ("http://127.0.0.1:99999/", "not a URL"),
    ("http://user:secret@127.0.0.1/", "without credentials"),
    ("http://10.0.0.1/", "10.0.0.1, not a loopback address"),
    ("http://[2001:db8::1]:80/", "not a loopback address"),
    ("http://0.0.0.0/", "not a loopback address"),
    ("http://web.example/", "resolves to 93.184.215.14, not a loopback address"),
    ("http://unknown.example/", "cannot resolve unknown.example"),
])
def test_a_url_that_is_not_http_to_loopback_is_refused_naming_it(url: str, words: str) -> None:
    def resolve(name: str) -> str:
        return "93.184.215.14" if name == "web.example" else unresolvable(name)

    with pytest.raises(BadInput) as refused:
        checked(url, resolve)
    assert refused.value.message.startswith(f"--url {url}: ") and words in refused.value.message
    assert [p.path for p in refused.value.problems] == ["url"]


def test_loopback_addresses_and_names_resolving_to_one_are_accepted() -> None:
    target, address = checked("http://web.shipline.test:8080/a?b=1", lambda name: "127.0.0.9")
    assert (target.host, target.port, target.path, target.host_header, address) == (
        "web.shipline.test", 8080, "/a?b=1", "web.shipline.test:8080", "127.0.0.9")
    target, address = checked("http://[::1]/", unresolvable)
    assert (target.port, target.path, target.host_header, address) == (80, "/", "[::1]", "::1")
    assert is_loopback("127.255.0.1") and is_loopback("::ffff:127.0.0.1") and not is_loopback("localhost")


def test_a_name_is_resolved_again_for_each_connection_and_refused_once_it_leaves_loopback() -> None:
    answers = iter(["127.0.0.2", "127.0.0.3", "192.0.2.1"])
    target = parse("http://web.shipline.test/")
    assert [target.address(lambda name: next(answers)) for _ in range(2)] == ["127.0.0.2", "127.0.0.3"]
    with pytest.raises(NotLoopback, match="192.0.2.1"):
        target.address(lambda name: next(answers))


def test_a_parameter_named_after_a_python_keyword_is_passed_with_a_trailing_underscore() -> None:
    assert (Param("for", "float", "h").argument, Param("rps", "float", "h").argument) == ("for_", "rps")
    assert Param("for", "float", "h").flag == "--for"
