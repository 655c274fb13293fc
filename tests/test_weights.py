"""Weights: random, local files, the ImageNet cache (no network), embedding, refusals, provenance."""
from __future__ import annotations

import hashlib
import os
import pickle
import shlex
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from alexnet_viz.core import download, weights
from alexnet_viz.core.model import build_model
from alexnet_viz.core.pretrained import IMAGENET1K_V1, URL_ENV_VAR, PretrainedWeights, imagenet_weights
from alexnet_viz.core.provenance import Provenance
from alexnet_viz.core.spec import ARTICLE, PAPER, TORCHVISION
from alexnet_viz.core.weights import default_weights, embed_state_dict, load_model
from alexnet_viz.core.weightschoice import IMAGENET, RANDOM, WeightsChoice
from alexnet_viz.errors import WeightsError
from tests.helpers import assert_same_state

# Small heads keep these models at ~4 M parameters; only the embedding test needs the real sizes.
TINY = replace(ARTICLE.with_layer("F9", out=8).with_layer("F10", out=8).with_layer("F11", out=10), name="tiny")
TINY_TV = replace(TORCHVISION.with_layer("F9", out=8).with_layer("F10", out=8).with_layer("F11", out=10),
                  name="tiny_tv")
TINY_ART = replace(TINY, name="tiny_article")

_real_urlopen = urllib.request.urlopen


@pytest.fixture(autouse=True)
def offline(monkeypatch, empty_torch_home):
    """No test reaches the internet or the real hub cache: only file:// and loopback URLs open."""
    def guarded(url, *args, **kwargs):
        text = url if isinstance(url, str) else url.full_url
        assert text.startswith(("file://", "http://127.0.0.1")), f"test tried the network: {text}"
        return _real_urlopen(url, *args, **kwargs)

    monkeypatch.setattr(download.urllib.request, "urlopen", guarded)


def _evil(marker: Path) -> object:
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {shlex.quote(str(marker))}",))

    return Evil()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fake_official(monkeypatch, url: str) -> PretrainedWeights:
    """Point the ImageNet source at a test file ($ALEXNET_WEIGHTS_URL), keeping the real metadata."""
    monkeypatch.setenv(URL_ENV_VAR, url)
    return imagenet_weights()


def _no_download(monkeypatch) -> None:
    monkeypatch.setattr(weights, "imagenet_downloader", lambda *a: pytest.fail("download attempted"))


def _cached(hub: Path) -> list[str]:
    """The checkpoints folder's files, but the download lock file (which stays, harmlessly)."""
    return sorted(p.name for p in (hub / "checkpoints").iterdir() if not p.name.endswith(".lock"))


def _tiny_file(directory: Path, seed: int = 1) -> tuple[Path, dict[str, torch.Tensor]]:
    """TINY weights saved under a torchvision-style name carrying their own hash prefix."""
    state = build_model(TINY, seed=seed).state_dict()
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / "tiny.pth"
    torch.save(state, tmp)
    final = directory / f"tiny-{_sha(tmp)[:8]}.pth"
    tmp.rename(final)
    return final, state


def test_imagenet_path_is_torchvisions_place() -> None:
    assert weights.imagenet_path("/x") == Path("/x/checkpoints") / "alexnet-owt-7be5be79.pth"
    assert weights.imagenet_path() == Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" / IMAGENET1K_V1.filename


def test_random_is_seeded_and_labelled() -> None:
    a, b, c = (load_model(TINY, "random", seed=s) for s in (3, 3, 4))
    assert_same_state(b, a.state_dict())
    assert not torch.equal(a.layer("C1").weight, c.layer("C1").weight)
    assert not a.training and a.provenance.source == "random" and a.provenance.seed == 3
    assert a.provenance.sha256 is None and a.provenance.accuracy is None
    assert "untrained" in a.provenance.describe() and "seed 3" in a.provenance.describe()
    assert a.provenance.variant == "tiny"


@pytest.mark.parametrize("kind", ["pth", "pt_wrapped", "safetensors", "module_prefixed"])
def test_local_files_load_exactly(tmp_path, kind: str) -> None:
    from safetensors.torch import save_file

    state = build_model(TINY, seed=5).state_dict()
    if kind == "pth":
        path = tmp_path / "w.pth"
        torch.save(state, path)
    elif kind == "pt_wrapped":
        path = tmp_path / "w.pt"
        torch.save({"state_dict": state, "epoch": 3}, path)
    elif kind == "module_prefixed":
        path = tmp_path / "w.pth"
        torch.save({f"module.{k}": v for k, v in state.items()}, path)
    else:
        path = tmp_path / "w.safetensors"
        save_file(state, str(path))
    model = load_model(TINY, path)
    assert_same_state(model, state)
    prov = model.provenance
    assert prov.source == "file" and prov.file == str(path) and prov.sha256 == _sha(path)
    assert not model.training and all(p.requires_grad for p in model.parameters())


def test_mismatch_lists_missing_unexpected_and_misshaped(tmp_path) -> None:
    state = build_model(TINY, seed=0).state_dict()
    del state["features.0.bias"]
    state["features.99.weight"] = torch.zeros(2, 2)
    state["classifier.6.weight"] = torch.zeros(7, 8)
    path = tmp_path / "bad.pth"
    torch.save(state, path)
    with pytest.raises(WeightsError) as err:
        load_model(TINY, path)
    text = str(err.value)
    assert "Missing keys: features.0.bias (96,)" in text
    assert "Unexpected keys: features.99.weight (2, 2)" in text
    assert "Misshaped keys: classifier.6.weight (file (7, 8), network (10, 8))" in text


@pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")  # torch's note on the raw pickle
@pytest.mark.parametrize("raw", [False, True])
def test_code_running_pickle_is_refused_without_running(tmp_path, raw: bool) -> None:
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pt"
    payload = {"features.0.weight": torch.zeros(1), "x": _evil(marker)}
    if raw:
        path.write_bytes(pickle.dumps(payload))
    else:
        torch.save(payload, path)
    with pytest.raises(WeightsError, match="refused.*nothing in it was executed") as err:
        load_model(TINY, path)
    assert "system" in str(err.value) or raw  # a raw protocol-4 pickle is refused before reading a name
    assert not marker.exists()
    with open(path, "rb") as fh:  # control: the payload really runs when unpickled naively
        if raw:
            pickle.load(fh)
        else:
            torch.load(fh, weights_only=False)
    assert marker.exists()


@pytest.mark.parametrize("name,content,needle", [
    ("empty.pth", b"", "not a readable PyTorch"),
    ("noise.pth", bytes(range(256)) * 8, "damaged or uses pickle features"),
    ("noise.safetensors", bytes(range(256)) * 8, "not a readable safetensors"),
    ("empty.safetensors", b"", "not a readable safetensors"),
    ("weights.txt", b"hello", "must be a .pth, .pt or .safetensors"),
])
def test_unreadable_files(tmp_path, name: str, content: bytes, needle: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(WeightsError, match=needle):
        load_model(TINY, tmp_path / name)


def test_missing_path_directory_and_non_tensor_contents(tmp_path) -> None:
    with pytest.raises(WeightsError, match="No weights chosen"):
        load_model(TINY, "  ")
    with pytest.raises(WeightsError, match="No weights file"):
        load_model(TINY, tmp_path / "nope.pth")
    with pytest.raises(WeightsError, match="No weights file"):
        load_model(TINY, tmp_path)
    torch.save({"features.0.weight": 3}, tmp_path / "ints.pth")
    with pytest.raises(WeightsError, match="not named tensors"):
        load_model(TINY, tmp_path / "ints.pth")
    torch.save({}, tmp_path / "nothing.pth")
    with pytest.raises(WeightsError, match="no state dict"):
        load_model(TINY, tmp_path / "nothing.pth")
    state = build_model(TINY, seed=0).state_dict()
    state["features.0.weight"][0, 0, 0, 0] = float("nan")
    torch.save(state, tmp_path / "nan.pth")
    with pytest.raises(WeightsError, match="NaN"):
        load_model(TINY, tmp_path / "nan.pth")


def test_embedding_is_exact_for_any_wider_network() -> None:
    small = build_model(TINY_TV, seed=2)
    with torch.no_grad(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(2)
        for p in small.parameters():  # nonzero biases everywhere, so a misplaced one would show
            p.add_(torch.randn_like(p) * 0.05)
    wide = build_model(TINY_ART, seed=9)
    wide.load_state_dict(embed_state_dict(small.state_dict(), TINY_TV, TINY_ART))
    x = torch.randn(3, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        a, b = small(x), wide(x)
    # float32 sums in another order (the wide net adds exact zeros): relative, not absolute, agreement
    assert a.abs().max() > 1e-2 and (a - b).abs().max() < 1e-5 * a.abs().max()
    c3 = wide.layer("C3")
    assert torch.count_nonzero(c3.weight[192:]) == 0 and torch.count_nonzero(c3.bias[192:]) == 0
    assert torch.count_nonzero(c3.weight[:, 64:]) == 0


def _meta_state(spec) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return build_model(spec).state_dict()


def test_embedding_refusals_say_why() -> None:
    with pytest.raises(WeightsError, match="groups differ in: C3 .*a grouped convolution"):
        embed_state_dict(_meta_state(TORCHVISION), TORCHVISION, PAPER)
    with pytest.raises(WeightsError, match=r"torchvision is narrower in: C1 \(64 < 96\)"):
        embed_state_dict(_meta_state(ARTICLE), ARTICLE, TORCHVISION)
    with pytest.raises(WeightsError, match="adaptive average pool is not an identity"):
        embed_state_dict(_meta_state(TORCHVISION), TORCHVISION, ARTICLE.with_input_size(256))
    with pytest.raises(WeightsError, match="names and shapes"):
        embed_state_dict(_meta_state(TINY), TORCHVISION, ARTICLE)


@pytest.fixture(scope="module")
def torchvision_file(tmp_path_factory) -> tuple[Path, torch.nn.Module]:
    import torchvision

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        reference = torchvision.models.alexnet().eval()
    path = tmp_path_factory.mktemp("tv") / "torchvision_random.pth"
    torch.save(reference.state_dict(), path)
    return path, reference


@pytest.mark.slow
def test_torchvision_weights_give_the_same_logits_in_article_and_torchvision(torchvision_file) -> None:
    path, reference = torchvision_file
    article, tv = load_model("article", path), load_model("torchvision", path)
    assert "embedded" in article.provenance.note and tv.provenance.note == ""
    x = torch.randn(4, 3, 224, 224, generator=torch.Generator().manual_seed(1)) * 3
    with torch.no_grad():
        want, got_article, got_tv = reference(x), article(x), tv(x)
    assert want.std() > 1e-3  # real, varied logits
    assert (got_article - want).abs().max() < 1e-4
    assert (got_tv - want).abs().max() < 1e-4
    assert torch.equal(got_article.topk(5).indices, want.topk(5).indices)
    with pytest.raises(WeightsError, match="paper"):
        load_model("paper", path)


@pytest.mark.slow
def test_planted_official_file_is_refused_unread(torchvision_file, tmp_path, monkeypatch) -> None:
    path, _ = torchvision_file
    _no_download(monkeypatch)
    planted = weights.imagenet_path(tmp_path)
    planted.parent.mkdir(parents=True)
    os.link(path, planted)
    with pytest.raises(WeightsError, match="SHA-256 .* was replaced"):
        load_model("torchvision", "imagenet", cache_dir=tmp_path)


def test_planted_pickle_under_official_name_never_runs(tmp_path, monkeypatch) -> None:
    _no_download(monkeypatch)
    marker = tmp_path / "PWNED"
    planted = weights.imagenet_path(tmp_path / "hub")
    planted.parent.mkdir(parents=True)
    torch.save({"x": _evil(marker)}, planted)
    with pytest.raises(WeightsError, match="not loaded"):
        load_model("article", "imagenet", cache_dir=tmp_path / "hub")
    assert not marker.exists()


def test_cached_file_with_matching_hash_loads_as_imagenet(tmp_path, monkeypatch) -> None:
    _no_download(monkeypatch)
    source, state = _tiny_file(tmp_path / "src")
    info = _fake_official(monkeypatch, f"https://example.invalid/{source.name}")
    cached = tmp_path / "hub" / "checkpoints" / source.name
    cached.parent.mkdir(parents=True)
    cached.write_bytes(source.read_bytes())
    model = load_model(TINY, "imagenet", cache_dir=tmp_path / "hub")
    assert_same_state(model, state)
    prov = model.provenance
    assert prov.source == "imagenet" and prov.accuracy == info.metrics and prov.sha256 == _sha(source)
    assert "acc@1" in prov.describe()
    cached.write_bytes(source.read_bytes()[:-100])  # truncated
    with pytest.raises(WeightsError, match="damaged, truncated or was replaced"):
        load_model(TINY, "imagenet", cache_dir=tmp_path / "hub")


def test_first_use_downloads_verifies_and_caches(tmp_path, monkeypatch, capsys) -> None:
    source, state = _tiny_file(tmp_path / "src")
    _fake_official(monkeypatch, source.as_uri())
    hub = tmp_path / "hub"
    model = load_model(TINY, "imagenet", cache_dir=hub, progress=True)
    assert_same_state(model, state)
    assert source.name in capsys.readouterr().err  # the progress bar, labelled with the file
    assert _cached(hub) == [source.name]
    assert default_weights(cache_dir=hub) == IMAGENET


def test_download_with_wrong_hash_is_discarded(tmp_path, monkeypatch) -> None:
    source, _ = _tiny_file(tmp_path / "src")
    liar = source.with_name("tiny-00000000.pth")
    source.rename(liar)
    _fake_official(monkeypatch, liar.as_uri())
    with pytest.raises(WeightsError, match="deleted"):
        load_model(TINY, "imagenet", cache_dir=tmp_path / "hub", progress=False)
    assert _cached(tmp_path / "hub") == []


@pytest.mark.parametrize("url", ["file:///nonexistent/alexnet-owt-7be5be79.pth",
                                 "http://127.0.0.1:9/alexnet-owt-7be5be79.pth"])
def test_offline_fails_with_instructions(tmp_path, monkeypatch, url: str) -> None:
    _fake_official(monkeypatch, url)
    with pytest.raises(WeightsError) as err:
        load_model(TINY, "imagenet", cache_dir=tmp_path / "hub", progress=False)
    text = str(err.value)
    assert "Could not download" in text and weights.ENV_VAR in text
    assert str(weights.imagenet_path(tmp_path / "hub")) in text
    assert _cached(tmp_path / "hub") == []


def test_unwritable_cache_is_a_weights_error(tmp_path, monkeypatch) -> None:
    _fake_official(monkeypatch, "file:///nonexistent/alexnet-owt-7be5be79.pth")
    blocker = tmp_path / "hub"
    blocker.write_bytes(b"a file where the cache folder should be")
    with pytest.raises(WeightsError, match="Cannot create the weights cache folder"):
        load_model(TINY, "imagenet", cache_dir=blocker, progress=False)


def test_default_weights(monkeypatch, tmp_path) -> None:
    assert default_weights() == RANDOM
    planted = Path(os.environ["TORCH_HOME"]) / "hub" / "checkpoints" / IMAGENET1K_V1.filename
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"x")
    assert default_weights() == IMAGENET
    monkeypatch.setenv(weights.ENV_VAR, " /some/file.safetensors ")
    assert default_weights() == WeightsChoice.file("/some/file.safetensors")


def test_device_choice() -> None:
    model = load_model(TINY, "random", device="cpu")
    assert next(model.parameters()).device.type == "cpu"
    with pytest.raises(WeightsError, match="device"):
        load_model(TINY, "random", device="warp-drive")


def test_provenance_describe() -> None:
    prov = Provenance("imagenet", "article", "/c/alexnet-owt-7be5be79.pth", "7be5be79" + "0" * 56,
                      {"acc@1": 1.5}, None, "a note")
    text = prov.describe()
    for part in ("ImageNet-pretrained", "article", "alexnet-owt-7be5be79.pth", "7be5be79", "acc@1 1.5%",
                 "a note"):
        assert part in text

@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc to see mappings")
def test_weights_are_memory_mapped_so_processes_share_them(tmp_path) -> None:
    """A zip-format file is mapped, not copied (N server processes share one page-cache copy); the older
    single-stream format still loads, read into memory."""
    from alexnet_viz.core.safeload import read_state_dict

    state = build_model(TINY, seed=4).state_dict()
    mapped, legacy = tmp_path / "mapped.pth", tmp_path / "legacy.pth"
    torch.save(state, mapped)
    torch.save(state, legacy, _use_new_zipfile_serialization=False)
    got = read_state_dict(mapped)
    assert str(mapped) in Path("/proc/self/maps").read_text()
    model = load_model(TINY, mapped)
    assert_same_state(model, state)
    # Shared only if the model's own parameters still live in the mapping (a copy would cost every process)
    spans = [tuple(int(x, 16) for x in line.split()[0].split("-"))
             for line in Path("/proc/self/maps").read_text().splitlines() if line.endswith(str(mapped))]
    outside = [k for k, t in model.state_dict().items() if not any(a <= t.data_ptr() < b for a, b in spans)]
    assert outside == []
    old = read_state_dict(legacy)
    assert str(legacy) not in Path("/proc/self/maps").read_text()
    assert all(torch.equal(old[k], state[k]) and torch.equal(got[k], state[k]) for k in state)


def test_a_mapped_load_still_refuses_pickles(tmp_path) -> None:
    marker = tmp_path / "PWNED"
    path = tmp_path / "evil.pth"
    torch.save({"w": torch.zeros(2), "x": _evil(marker)}, path)  # zip format: the mapped path
    with pytest.raises(WeightsError, match="refused"):
        load_model(TINY, path)
    assert not marker.exists()


@pytest.mark.parametrize("zipped", [True, False])
def test_a_file_whose_list_of_tensors_is_megabytes_is_refused_unread(tmp_path, zipped: bool) -> None:
    """Re-attack of issue 24: 300,000 keys sharing one 1-element tensor (a 5.6 MB file) took 153 MB once
    unpickled (199 MB and 8.6 s in the older format); a 10 MB key name made a 10 MB error line. Both are
    refused before torch.load, from the zip's listing or the older format's leading pickles."""
    many, long = tmp_path / "many.pth", tmp_path / "long.pth"
    one = torch.zeros(1)
    torch.save({f"k{i}": one for i in range(100_000)}, many, _use_new_zipfile_serialization=zipped)
    torch.save({"x" * 2_000_000: one}, long, _use_new_zipfile_serialization=zipped)
    for path in (many, long):
        with pytest.raises(WeightsError, match="was refused unread: its list of tensors takes") as caught:
            load_model("article", WeightsChoice.file(path))
        assert len(str(caught.value)) < 300


def test_long_key_names_are_shortened_in_messages(tmp_path) -> None:
    path = tmp_path / "named.pth"
    torch.save({"y" * 5000: torch.zeros(2)}, path)
    with pytest.raises(WeightsError, match="does not fit") as caught:
        load_model("article", WeightsChoice.file(path))
    assert "(5,000 characters)" in str(caught.value) and len(str(caught.value)) < 1000
