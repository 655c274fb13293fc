"""The image pages under AppTest: the default sample, uploads good and bad, deep links, isolation."""
from __future__ import annotations

import base64
import io
import re

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from alexnet_viz.core.spec import ARTICLE
from alexnet_viz.core.weightschoice import RANDOM
from tests.helpers import components, open_page, png, texts, upload
from ui.navigation import PAGE_DIR

pytestmark = pytest.mark.usefixtures("random_weights_on_cpu")
FEATURES, FILTERS, PREDICTION = (f"{PAGE_DIR}/{name}.py" for name in ("feature_maps", "filters", "prediction"))
IMAGE_PAGES = [FEATURES, PREDICTION]


def _grids(at: AppTest) -> list[dict]:
    """The clickable tile grids' data (ui.grids): picture, layout, caption."""
    return components(at, "alexnet_viz.tile_grid")


def _closeups(at: AppTest) -> list[dict]:
    """The channel close-ups' data (ui.closeup): picture, values, marked unit, title."""
    return components(at, "alexnet_viz.value_map")


@pytest.mark.parametrize("page", IMAGE_PAGES)
def test_default_sample_fills_the_page(page):
    at = open_page(page)
    assert not at.error
    assert at.selectbox(key="image_sample").value == "cat"
    assert "Chelsea the cat" in texts(at)
    assert at.query_params.get("sample") == "cat"
    if page == FEATURES:
        assert at.selectbox(key="fm_layer").value == "C1"
        assert "all 96 channels of 55×55" in texts(at)
        assert len(_grids(at)) == 1 and len(at.image) >= 2  # grid; overlay, receptive field
        grid = _grids(at)[0]
        # served from /media/ as st.image's pictures are, not inline in every rerun's message
        assert grid["order"] == list(range(96)) and "/media/" in grid["src"] and grid["src"].endswith(".png")
        after, before = _closeups(at)  # the zoomed channel after and before the ReLU, no plotly to lay out
        assert not at.get("plotly_chart")
        assert after["title"] == "C1 channel 0, after the ReLU" and "before the ReLU" in before["title"]
        values = np.frombuffer(base64.b64decode(after["values"]), dtype="<f4").reshape(after["h"], after["w"])
        assert values.shape == (55, 55) and values.min() >= 0  # the exact float32 values, after a ReLU
        assert np.unravel_index(int(np.argmax(values)), values.shape) == tuple(after["mark"])  # its strongest unit
        assert np.frombuffer(base64.b64decode(before["values"]), dtype="<f4").min() < 0
        assert len(at.dataframe) == 1
    else:
        assert len(at.get("plotly_chart")) == 1  # the top-5 chart
        assert any("random" in w.value for w in at.warning)  # the random-weights banner
        assert at.selectbox(key="pred_class").value is not None


@pytest.mark.parametrize("page", IMAGE_PAGES)
def test_valid_upload_is_used(page):
    at = upload(open_page(page), "photo.png", png())
    assert not at.error
    assert "your upload **photo.png**: 180×120 pixels" in texts(at)
    assert "sample" not in at.query_params  # an upload cannot be linked to


def test_the_photo_box_names_the_upload_while_it_is_shown_then_the_sample_again():
    at = open_page(FEATURES, {"sample": "coffee"})
    upload(at, "photo.png", png())
    box = at.selectbox(key="image_sample")
    assert box.value == "_own" and box.format_func(box.value) == "Your upload: photo.png"  # not "A cup of coffee"
    at.selectbox(key="image_sample").set_value("rocket").run()  # a sample chosen: the upload's entry goes
    box = at.selectbox(key="image_sample")
    assert box.value == "rocket" and not any("photo.png" in o for o in box.options)
    assert "DSCOVR launch" in texts(at)


@pytest.mark.parametrize("page", IMAGE_PAGES)
@pytest.mark.parametrize("name,data", [("x.png", b"this is not an image at all\n" * 20),
                                       ("cut.png", png()[: len(png()) // 2])], ids=["text", "truncated"])
def test_bad_upload_shows_an_error_not_a_traceback(page, name, data):
    at = upload(open_page(page), name, data)
    assert at.error and name in at.error[0].value
    if page == FEATURES:
        assert not at.image  # nothing computed from a picture that is not there
    else:
        assert not at.get("plotly_chart")
    at.selectbox(key="image_sample").set_value("coffee").run()  # choosing a sample recovers
    assert not at.error and not at.exception
    assert "A cup of coffee" in texts(at)


def test_upload_follows_to_the_next_page_but_not_to_another_session():
    at = upload(open_page(FEATURES), "photo.png", png())
    at.switch_page(PREDICTION).run()
    assert not at.exception
    assert "your upload **photo.png**" in texts(at)
    other = open_page(PREDICTION)  # another browser session on the same server
    assert "Chelsea the cat" in texts(other) and "photo.png" not in texts(other)
    at.button(key="image_back").click().run()  # back to the sample on this page
    assert "Chelsea the cat" in texts(at) and "photo.png" not in texts(at)


def test_feature_map_deep_link_and_controls():
    at = open_page(FEATURES, {"layer": "C5", "channel": "7", "sample": "rocket"})
    assert at.selectbox(key="image_sample").value == "rocket"
    assert at.selectbox(key="fm_layer").value == "C5"
    assert at.number_input(key="fm_channel").value == 7
    assert "all 384 channels of 13×13" in texts(at)
    at.radio(key="fm_sort").set_value("max").run()
    assert "ordered by max activation" in texts(at) and "First tiles: channels" in texts(at)
    assert _grids(at)[0]["order"][0] == int(np.argmax(at.dataframe[0].value["max"]))  # strongest first
    at.selectbox(key="fm_layer").set_value("S8").run()
    assert not at.exception
    assert at.query_params["layer"] == "S8"
    assert len(_closeups(at)) == 1  # a pooling layer has no "before ReLU"
    bad = open_page(FEATURES, {"layer": "F99", "channel": "abc"})  # nonsense in the URL falls back, with a note
    assert bad.selectbox(key="fm_layer").value == "C1" and bad.number_input(key="fm_channel").value == 0
    notes = [i.value for i in bad.info]
    assert any("F99" in n and "showing **C1**" in n for n in notes) and any("abc" in n for n in notes)


def test_filters_page_tiles_and_paper_groups():
    at = open_page(FILTERS)
    assert not at.error
    assert any("random" in w.value for w in at.warning)
    assert "96 kernels of 11×11×3" in texts(at)
    assert len(_grids(at)) == 1 and len(at.get("plotly_chart")) == 2  # tiles; the close-up, the histograms
    assert _grids(at)[0]["unit"] == "kernel" and _grids(at)[0]["order"] == list(range(96))
    at.selectbox(key="flt_layer").set_value("C3").run()
    assert "each tile is one kernel's 5×5 slice on input channel 0" in texts(at)
    paper = open_page(FILTERS, {"variant": "paper", "layer": "C3", "channel": "5"})
    assert paper.selectbox(key="flt_layer").value == "C3"
    captions = [g["caption"] for g in _grids(paper)]
    assert _grids(paper)[1]["order"][0] == 128  # the second GPU's tiles name its own kernels
    assert any("GPU 1: kernels 0–127; slice on input channel 5" in c for c in captions)
    assert any("GPU 2: kernels 128–255; slice on input channel 53" in c for c in captions)


def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.open(io.BytesIO(png(160, 160))).convert("RGB").save(buf, format="JPEG")
    return buf.getvalue()


def test_camera_is_off_until_asked_for_then_its_photo_is_used():
    at = open_page(FEATURES)
    assert not at.camera_input  # no camera permission prompt by default
    at.toggle(key="image_use_camera").set_value(True).run()
    assert len(at.camera_input) == 1
    at.camera_input(key="image_camera").set_value(("shot.jpg", _jpeg(), "image/jpeg")).run()
    assert not at.exception and not at.error
    assert "your camera **shot.jpg**: 160×160 pixels" in texts(at)


@pytest.mark.slow
def test_pages_leave_the_shared_model_as_they_found_it():
    import torch

    from alexnet_viz.core.modelkey import ModelKey
    from ui.state import shared_model

    model = shared_model(ModelKey(ARTICLE, RANDOM, "cpu"))  # the same cached object the pages use
    before = {k: v.detach().clone() for k, v in model.state_dict().items()}
    at = open_page(PREDICTION, {"sample": "astronaut", "class": "3"})
    assert at.selectbox(key="pred_class").value == 3  # the deep-linked class is explained
    at.toggle(key="pred_occlusion").set_value(True).run()
    assert not at.exception and len(at.image) == 4  # the view, Grad-CAM, saliency, occlusion
    open_page(FEATURES, {"sample": "astronaut", "layer": "C3"})
    assert shared_model(ModelKey(ARTICLE, RANDOM, "cpu")) is model
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert not model.training and not any(m.training for m in model.modules())
    assert not any(m._forward_hooks or m._forward_pre_hooks or m._backward_hooks for m in model.modules())
    assert all(p.grad is None for p in model.parameters())


@pytest.mark.parametrize("page", [FEATURES, FILTERS, PREDICTION])
def test_weights_that_do_not_load_are_a_message(page, monkeypatch, tmp_path):
    monkeypatch.setenv("ALEXNET_WEIGHTS", str(tmp_path / "missing.pth"))  # set by whoever runs the server
    at = open_page(page)
    assert at.error and "missing.pth" in at.error[0].value


def test_switching_variant_keeps_the_view_valid():
    at = open_page(FEATURES, {"layer": "C1", "channel": "90"})
    assert at.number_input(key="fm_channel").value == 90
    at.selectbox(key="variant").set_value("torchvision").run()  # its C1 has 64 channels
    assert not at.exception and not at.error
    assert "all 64 channels of 55×55" in texts(at)
    assert at.number_input(key="fm_channel").value == 0
    at.selectbox(key="variant").set_value("paper").run()  # 227×227 input, LRN after C1's ReLU
    assert "all 96 channels of 55×55, after the ReLU and the LRN" in texts(at)
    assert "centre 227×227" in texts(at)


def test_a_new_link_in_the_same_session_shows_its_view():
    """A session that is sent a new address (as a load test or a shared link in one tab does) follows it."""
    at = upload(open_page(FEATURES), "photo.png", png())
    at.query_params.update({"layer": "C5", "channel": "7", "sample": "rocket"})
    at.run()
    assert at.selectbox(key="fm_layer").value == "C5" and at.number_input(key="fm_channel").value == 7
    assert "DSCOVR launch" in texts(at) and "photo.png" not in texts(at)  # the link's sample, not the upload
    at.run()  # the same address again changes nothing the user did since
    at.number_input(key="fm_channel").set_value(9).run()
    assert at.query_params["channel"] == "9"
    at.run()
    assert at.number_input(key="fm_channel").value == 9


def test_a_class_outside_the_top_5_gets_its_own_probability_and_rank():
    at = open_page(PREDICTION, {"sample": "cat"})
    top = [int(re.search(r"#(\d+)", o).group(1)) for o in at.selectbox(key="pred_class").options[:5]]
    outside = next(i for i in range(1000) if i not in top)
    at.selectbox(key="pred_class").set_value(outside).run()
    assert not at.exception
    notes = [i.value for i in at.info]
    assert any("is not in the top 5" in n and re.search(r"rank \d+ of 1000", n) for n in notes), notes
    assert any(m.label == "One forward pass, wall clock" for m in at.metric)


def test_a_tiny_upload_gets_a_note_that_the_network_sees_a_blur():
    from ui.image_input import blur_note

    assert blur_note((100, 63), ARTICLE) is not None and "4.1×" in blur_note((100, 63), ARTICLE)
    assert blur_note((64, 400), ARTICLE) is None  # 256 / 64 = 4: not more than 4×
    at = upload(open_page(FEATURES), "tiny.png", png(40, 30))
    assert not at.exception and any("enlarged blur" in i.value and "40×30" in i.value for i in at.info)
    big = upload(open_page(FEATURES), "photo.png", png())
    assert not any("enlarged blur" in i.value for i in big.info)


def test_prediction_names_chance_and_says_what_an_untrained_answer_means():
    at = open_page(PREDICTION, {"sample": "coffee"})
    chart = at.get("plotly_chart")[0].proto.spec
    assert "chance: 1 in 1,000 = 0.1%" in chart  # drawn beside the bars
    shown = texts(at, ["caption", "info"])
    assert "chance: 1 in 1,000 = 0.1%" in shown
    assert "Why this answer says nothing about your photo" in shown and "blank grey picture" in shown
    assert re.search(r"The best class here gets \d+\.\d\d%, \d+\.\d× chance", shown)


def test_feature_maps_say_which_maps_are_nearly_flat_and_offer_one_range_for_the_layer():
    from alexnet_viz.figures.mosaic import FLAT_SHARE

    at = open_page(FEATURES, {"sample": "coffee", "layer": "S8", "channel": "0"})
    notes = " ".join(i.value for i in at.info)
    said = re.search(r"(\d+) of 256 maps of S8 are nearly flat: each varies by less than 5% of the layer's range "
                     r"\(0 to [\d.]+\); channel (\d+) spans ([\d.]+) to ([\d.]+), ([\d.]+)% of that", notes)
    assert said and int(said[1]) > 0 and float(said[5]) < 100 * FLAT_SHARE
    assert "choose **one range for the layer**" in notes
    example = open_page(FEATURES, {"sample": "coffee", "layer": "S8", "channel": said[2]})
    assert f"Channel {said[2]} of S8 is nearly flat: from {said[3]} to {said[4]}" in " ".join(i.value for i in
                                                                                             example.info)
    assert "each tile on its own range" in _grids(at)[0]["bar"]
    at.radio(key="fm_mode").set_value("layer").run()  # one shared scale: the bar has the layer's true values
    assert not at.exception
    assert "one range for the layer" in _grids(at)[0]["bar"] and "tile's lowest" not in _grids(at)[0]["bar"]
    assert "On one range for the layer they look flat, as they are." in texts(at, ["caption"])
