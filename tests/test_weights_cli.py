"""`python -m alexnet_viz weights download|where|verify`, offline against a server on 127.0.0.1."""
from __future__ import annotations

import hashlib

import pytest

from alexnet_viz.cli import main
from alexnet_viz.core.pretrained import URL_ENV_VAR
from tests.fileserver import dead_port, serving

BODY = b"weights for the command line" * 5000
SHA = hashlib.sha256(BODY).hexdigest()
NAME = f"alexnet-owt-{SHA[:8]}.pth"


pytestmark = pytest.mark.usefixtures("empty_torch_home")


def test_where_download_verify(tmp_path, monkeypatch, capsys, empty_torch_home) -> None:
    assert main(["weights", "where"]) == 0
    assert capsys.readouterr().out.strip() == str(empty_torch_home / "hub" / "checkpoints" / "alexnet-owt-7be5be79.pth")
    with serving({NAME: BODY}) as srv:
        monkeypatch.setenv(URL_ENV_VAR, srv.url(NAME))
        assert main(["weights", "download"]) == 0
    cached = empty_torch_home / "hub" / "checkpoints" / NAME
    out, err = capsys.readouterr()
    assert out.splitlines() == [str(cached), f"SHA-256 {SHA} (verified)"] and NAME in err  # tqdm's bar
    assert main(["weights", "verify"]) == 0 and "OK: expected" in capsys.readouterr().out
    liar = tmp_path / "alexnet-owt-00000000.pth"
    liar.write_bytes(BODY)
    assert main(["weights", "verify", str(liar)]) == 1 and "MISMATCH" in capsys.readouterr().out
    plain = tmp_path / "mine.pth"
    plain.write_bytes(BODY)
    assert main(["weights", "verify", str(plain)]) == 0
    out = capsys.readouterr().out
    assert SHA in out and "No expected hash" in out


def test_a_failed_download_is_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv(URL_ENV_VAR, f"http://127.0.0.1:{dead_port()}/{NAME}")
    assert main(["weights", "download"]) == 2
    err = capsys.readouterr().err
    assert "error: Could not get the ImageNet weights" in err and "Traceback" not in err
    assert main(["weights", "verify"]) == 2 and "weights download" in capsys.readouterr().err
