"""How a page that shows the network opens: the sidebar's choices, the weights banner, then (image pages) the photo.

Every such page opens here, so the ImageNet download's progress bar, the random-weights warning
and the sentence on where the weights came from are handled in one place, before the page draws
anything that needs the model. Image pages then draw the shared picker; when the photo cannot be
used the picker says why and the run stops.
"""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from alexnet_viz.core.modelkey import ModelKey
from ui.analysis import ImageRef
from ui.image_input import image_picker, or_stop
from ui.state import Context, context


@dataclass(frozen=True)
class Page:
    """A page's context and where its weights came from (Provenance.describe), for the page to show."""

    ctx: Context
    about_weights: str

    def image(self) -> ImageRef:
        """Draw the image picker here and return the picked photo; stop the run when it cannot be used."""
        picked = image_picker(self.ctx.spec)
        if picked is None:
            st.stop()
        return picked.ref


def weights_banner(key: ModelKey) -> str:
    """Wait for the ImageNet download (with its progress bar) if it is under way; warn loudly when the
    weights are random; return the provenance sentence for the page to show."""
    from ui.analysis import provenance
    from ui.weights_notice import await_imagenet, random_notice

    await_imagenet(key)
    with st.spinner("Loading the network and its weights…"):
        prov = or_stop(provenance, key)
    if prov.source == "random":
        random_notice(prov)
    return prov.describe()


def network_page() -> Page:
    """Open a page that shows the network's weights or insides: the context, then the weights banner."""
    ctx = context()
    return Page(ctx, weights_banner(ctx.key))


def image_page() -> tuple[Page, ImageRef]:
    """Open a page about one photo: network_page, then the picker; the photo it returns is the one to show."""
    page = network_page()
    return page, page.image()
