"""The native engine over TLS (https): verified by default, an explicit opt-out, a CA file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme

from bench.runner.engines.native import run
from bench.runner.engines.native.target import parse_target
from bench.runner.loadspec import LoadSpec

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[trustme.CA, Path, Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    certfile, keyfile, cafile = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    cert.private_key_and_cert_chain_pem.write_to_path(str(certfile))
    cert.private_key_pem.write_to_path(str(keyfile))
    ca.cert_pem.write_to_path(str(cafile))
    return ca, certfile, keyfile, cafile


def test_https_and_wss_targets_carry_a_verifying_context() -> None:
    import ssl

    target = parse_target("https://example.test/x")
    assert target.port == 443 and target.tls is not None
    assert target.tls.verify_mode == ssl.CERT_REQUIRED and target.tls.check_hostname
    assert parse_target("wss://example.test/").websocket
    unverified = parse_target("https://example.test/", verify=False).tls
    assert unverified is not None and unverified.verify_mode == ssl.CERT_NONE
    assert parse_target("http://example.test/").tls is None


def test_an_untrusted_certificate_is_refused_by_default(serve: Any, tls: Any) -> None:
    _ca, certfile, keyfile, _cafile = tls
    args = ("--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile))
    with serve("eventloop", "hello", *args) as url:
        assert url.startswith("https://")
        result = run(LoadSpec(url=url + "/", connections=2, duration_s=0.5))
    assert result.requests == 0 and result.errors["connect"] > 0
    assert any("certificate of 127.0.0.1 was refused" in n for n in result.notes), result.notes


def test_the_explicit_opt_out_measures_without_verifying(serve: Any, tls: Any) -> None:
    _ca, certfile, keyfile, _cafile = tls
    args = ("--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile))
    with serve("eventloop", "hello", *args) as url:
        result = run(LoadSpec(url=url + "/", connections=2, duration_s=0.5, tls_verify=False))
    assert result.requests > 0 and result.error_count == 0


def test_a_trusted_ca_file_verifies(serve: Any, tls: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _ca, certfile, keyfile, cafile = tls
    monkeypatch.setenv("SSL_CERT_FILE", str(cafile))
    args = ("--ssl-certfile", str(certfile), "--ssl-keyfile", str(keyfile))
    with serve("eventloop", "hello", *args) as url:
        result = run(LoadSpec(url=url + "/", connections=2, duration_s=0.5))
    assert result.requests > 0 and result.error_count == 0
