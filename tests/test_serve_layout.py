"""serve's checks that need no running server (the layout itself is tested in test_serving.py, slow)."""
from __future__ import annotations

from pathlib import Path

import pytest

from alexnet_viz.errors import AlexVizError
from alexnet_viz.serving import serve


def test_serve_from_an_installed_package_says_it_needs_a_checkout(monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    """An installed wheel has no streamlit_app.py beside it: refuse at once, before HAProxy or any replica."""
    monkeypatch.setattr(serve, "APP", tmp_path / "site-packages" / "streamlit_app.py")
    started: list[object] = []
    monkeypatch.setattr(serve.subprocess, "Popen", lambda *a, **k: started.append(a))
    with pytest.raises(AlexVizError, match="checkout of the repository"):
        with serve.running(1, port=serve.free_port(), run_dir=tmp_path / "run"):
            pass
    assert started == []


def test_the_app_the_replicas_run_is_in_this_checkout() -> None:
    assert serve.APP.is_file() and serve.streamlit_command()[4] == str(serve.APP)
