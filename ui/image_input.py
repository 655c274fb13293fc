"""The image picker shared by the image pages: a bundled sample, an upload or the camera.

Widgets on different pages are different widgets to Streamlit, so the choice is also kept in
(per-session) session state: a photo uploaded on one page is still the photo on the next. A
sample chosen here is written to the URL (`?sample=cat`) so a link reproduces the view.

Also library errors shown as messages (`or_stop`), which every page uses. Pages open through
ui/page.py (the weights banner, then this picker); widgets tied to URL parameters live in ui/urls.py.
"""
from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st
from streamlit import config

from alexnet_viz.core.spec import Spec
from alexnet_viz.errors import AlexVizError
from ui.analysis import ImageRef, Prepared, prepare
from ui.urls import url_news, url_write

SAMPLES_DIR = Path(__file__).resolve().parent.parent / "assets" / "samples"
SAMPLES: dict[str, tuple[str, str]] = {  # name -> (file, caption); licences in assets/samples/LICENSE.md
    "cat": ("cat.jpg", "Chelsea the cat (CC0, Stefan van der Walt)"),
    "coffee": ("coffee.jpg", "A cup of coffee (CC0, Rachel Michetti)"),
    "astronaut": ("astronaut.jpg", "Astronaut Eileen Collins (NASA, public domain)"),
    "rocket": ("rocket.jpg", "DSCOVR launch on a Falcon 9 (SpaceX, public domain)"),
}
DEFAULT_SAMPLE = "cat"
UPLOAD_TYPES = ["png", "jpg", "jpeg", "webp", "gif", "bmp"]
SAMPLE_PARAM = "sample"
_SAMPLE = "_image_sample"  # the chosen sample's name, kept across pages
_OWN = "_image_own"  # (source, ImageRef) of the user's own photo, kept across pages
_REFUSED = "_image_refused"  # why the last upload was refused before it reached the decoder
OWN_OPTION = "_own"  # the picker's entry for the visitor's own photo, there only while it is shown
FOLD_KEY = "image_folded"  # a folded picker's expander (ui/page.py): a chosen photo folds it, so the answer shows
_EMPTIED = "_image_emptied"  # the own photo's widget was just emptied: perhaps a replacement is on its way
REPLACEMENT_WAIT_S = 1.0  # 0.3 s let the sample flash up under CI's load (the new file's PUT came later)
_MARKDOWN = re.compile(r"([\\`*_{}\[\]()<>#+|!$~:^=-])")
MAX_LABEL = 80


def md_literal(text: str) -> str:
    """`text` exactly as typed inside Markdown: a filename is a visitor's text, never markup or LaTeX.

    Every character Markdown, LaTeX ($), Streamlit colours (:red[...]) or emoji codes (:x:) could
    act on is backslash-escaped, newlines become spaces, and the result is cut to MAX_LABEL characters.
    """
    flat = " ".join(text.split())
    flat = flat if len(flat) <= MAX_LABEL else flat[:MAX_LABEL - 1] + "…"
    return _MARKDOWN.sub(r"\\\1", flat)


def upload_limit_text() -> str:
    """The server's per-file limit in the units both a browser (MB) and Streamlit's setting (MiB) use."""
    mib = int(config.get_option("server.maxUploadSize"))
    return f"under {mib} MiB ({mib * 1.048576:.1f} MB)"


@dataclass(frozen=True)
class Picked:
    """The image a page should show: its bytes (by reference), where it came from, decoded views."""

    ref: ImageRef
    source: str  # "sample", "upload" or "camera"
    prepared: Prepared


@st.cache_resource(show_spinner=False)
def sample_ref(name: str) -> ImageRef:
    """A bundled sample's bytes and hash, read once per server."""
    file, _ = SAMPLES[name]
    return ImageRef.of((SAMPLES_DIR / file).read_bytes(), label=file)


def _on_sample(widget: str) -> None:
    if st.session_state[widget] not in SAMPLES:  # the own photo (already shown), or a label Streamlit kept:
        return  # the box's value is matched by its words, and the own photo's change with each new upload
    st.session_state[_SAMPLE] = st.session_state[widget]
    st.session_state[FOLD_KEY] = False
    _forget_own()  # choosing a sample means: show the sample


def _on_file(widget: str, source: str) -> None:
    st.session_state.pop(_REFUSED, None)
    f = st.session_state.get(widget)
    if f is not None and (problem := name_problem(f.name or "")):
        st.session_state[_REFUSED] = problem
        return
    if f is None:  # the user removed the file, or is replacing it (see _await_replacement)
        own = st.session_state.get(_OWN)
        if own is not None and own[0] == source:
            del st.session_state[_OWN]
            st.session_state[_EMPTIED] = True
        return
    st.session_state[_OWN] = (source, ImageRef.of(f.getvalue(), label=f.name or source))
    st.session_state[FOLD_KEY] = False


def name_problem(name: str) -> str | None:
    """Why an uploaded file's name is refused (a NUL byte, a type not in UPLOAD_TYPES), or None.

    The uploader is created without `type=`: with it, Streamlit checks names itself while it
    compares widget states before any page code runs, and a scripted upload named `x.exe` or
    `a\\0.png` ended in the generic error page. The bytes are sniffed by load_image either way.
    """
    accepted = f"Upload a {', '.join(UPLOAD_TYPES[:-1])} or {UPLOAD_TYPES[-1]} file {upload_limit_text()}."
    if "\0" in name:
        return f"That file was not accepted: its name contains a NUL byte. {accepted}"
    if Path(name).suffix.lower().lstrip(".") not in UPLOAD_TYPES:
        return f"**{md_literal(name)}** was not accepted: its name does not end in an accepted type. {accepted}"
    return None


def _await_replacement() -> None:
    """Give a replacement photo's rerun a moment to take over before the sample is drawn.

    Streamlit's uploader replaces a file in two reruns: the first with no file (the old one
    deleted), the second ~20-200 ms later with the new one (more on a loaded server). Drawn at once,
    the first showed the sample photo for a moment on every new upload and cost the browser a whole extra page. Each
    placeholder update below is a point where Streamlit stops this run for a newer rerun request;
    if none comes (the file was really removed), the sample follows after REPLACEMENT_WAIT_S.
    """
    slot = st.empty()
    end = time.monotonic() + REPLACEMENT_WAIT_S
    while time.monotonic() < end:
        time.sleep(0.02)
        slot.empty()


def _own_label(own: tuple[str, ImageRef] | None) -> str:
    """The picker's words for the visitor's own photo: its source and file name (plain text in a selectbox)."""
    if own is None:
        return "your photo"
    source, ref = own
    name = " ".join(ref.label.split())
    return f"Your {source}: {name if len(name) <= MAX_LABEL else name[:MAX_LABEL - 1] + '…'}"


def _forget_own() -> None:
    st.session_state.pop(_OWN, None)


def image_picker(spec: Spec, *, key: str = "image") -> Picked | None:
    """Draw the picker; return the decoded choice, or None after showing why it cannot be used."""
    sample_key, upload_key, camera_key, toggle_key = (f"{key}_{k}"
                                                      for k in ("sample", "upload", "camera", "use_camera"))
    linked = url_news(SAMPLE_PARAM)
    if linked in SAMPLES:  # a link that names a sample shows that sample
        st.session_state[_SAMPLE] = st.session_state[sample_key] = linked
        _forget_own()
    if st.session_state.get(_SAMPLE) not in SAMPLES:
        st.session_state[_SAMPLE] = DEFAULT_SAMPLE
    own_now = st.session_state.get(_OWN)  # the box names what is shown: an upload, not the last sample
    st.session_state[sample_key] = OWN_OPTION if own_now is not None else st.session_state[_SAMPLE]

    left, middle, right = st.columns([1.3, 2.2, 1.0], vertical_alignment="center")
    left.selectbox("Photo", list(SAMPLES) + ([OWN_OPTION] if own_now is not None else []), key=sample_key,
                   format_func=lambda n: _own_label(own_now) if n == OWN_OPTION else SAMPLES[n][1],
                   on_change=_on_sample, args=(sample_key,),
                   help="A bundled sample photo; your own photo (upload or camera) appears here while it is shown.")
    # No type=: see name_problem. The browser's file dialog then lists every file; _on_file refuses by name.
    middle.file_uploader("…or your own photo (PNG, JPEG, WebP, GIF, BMP)", key=upload_key, on_change=_on_file,
                         args=(upload_key, "upload"),
                         help=f"PNG, JPEG, WebP, GIF (first frame) or BMP, {upload_limit_text()}. It is kept in this "
                              "server's memory for your session only, and other visitors' pages never show it; but "
                              "the pictures drawn from it are served at long random /media/ addresses, which anyone "
                              "given such an address could open until the server drops them.")
    if _REFUSED in st.session_state:
        st.error(st.session_state[_REFUSED], icon=":material/block:")
    use_camera = right.toggle("Camera", key=toggle_key, help="Take a photo with your camera (asks for permission).")
    if use_camera:
        st.camera_input("Take a photo", key=camera_key, on_change=_on_file, args=(camera_key, "camera"))

    if st.session_state.pop(_EMPTIED, False):
        _await_replacement()
    own = st.session_state.get(_OWN)
    if own is not None:
        source, ref = own
        url_write(SAMPLE_PARAM, None)  # an upload cannot be linked to
    else:
        source, ref = "sample", sample_ref(st.session_state[_SAMPLE])
        url_write(SAMPLE_PARAM, st.session_state[_SAMPLE])

    # An own photo whose widget is empty here was picked on another page: offer a way back.
    kept = source != "sample" and st.session_state.get(upload_key if source == "upload" else camera_key) is None
    try:
        prepared = prepare(ref, spec)
    except AlexVizError as err:
        how = "Choose a sample photo instead." if kept else "Remove it (×) or choose another file to go on."
        st.error(f"**{md_literal(ref.label)}** cannot be used: {err} {how}")
        if kept:
            st.button("Use the sample photo", key=f"{key}_back", on_click=_forget_own)
        return None
    width, height = prepared.original_size
    side = prepared.view.shape[0]
    what = SAMPLES[st.session_state[_SAMPLE]][1] if source == "sample" else f"your {source} **{md_literal(ref.label)}**"
    text, back = st.columns([5, 1], vertical_alignment="center") if kept else (st, None)
    text.caption(f"Showing {what}{' (from another page)' if kept else ''}: {width}×{height} pixels, seen by the "
                 f"network as the centre {side}×{side} after resizing.")
    if back is not None:
        back.button("Use the sample photo", key=f"{key}_back", on_click=_forget_own)
    note = blur_note(prepared.original_size, spec)
    if note and source != "sample":
        st.info(note, icon=":material/blur_on:")
    return Picked(ref=ref, source=source, prepared=prepared)


MAX_ENLARGEMENT = 4.0  # beyond this the network sees mostly interpolation, not the photo's detail


def blur_note(original_size: tuple[int, int], spec: Spec) -> str | None:
    """A note when preprocessing enlarges the photo more than 4× (a side under 64 px at AlexNet's 256)."""
    from alexnet_viz.core.pretrained import IMAGENET1K_V1

    # The shorter side is resized to this before the centre crop (alexnet_viz.inputs.images.network_view).
    target = max(IMAGENET1K_V1.transforms.resize, spec.input_size)
    factor = target / max(1, min(original_size))
    if factor <= MAX_ENLARGEMENT:
        return None
    width, height = original_size
    return (f"This photo is {width}×{height} pixels: its shorter side is enlarged {factor:.1f}× to {target} pixels "
            "before the centre crop, so the network sees an enlarged blur, not the photo's detail. A photo "
            f"at least {int(target / MAX_ENLARGEMENT)} pixels on its shorter side shows what the network can do.")


T = TypeVar("T")


def or_stop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call fn; on a library error (bad image, weights that do not load) show it and stop the run."""
    try:
        return fn(*args, **kwargs)
    except AlexVizError as err:
        st.error(str(err))
        st.stop()
