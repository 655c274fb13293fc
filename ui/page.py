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
from alexnet_viz.core.provenance import Provenance
from ui.analysis import ImageRef
from ui.image_input import image_picker, or_stop
from ui.state import Context, context


@dataclass(frozen=True)
class Page:
    """A page's context and where its weights came from (Provenance.describe), for the page to show."""

    ctx: Context
    about_weights: str
    trained: bool  # False for random, untrained weights

    def image(self, folded: str | None = None) -> ImageRef:
        """Draw the image picker here and return the picked photo; stop the run when it cannot be used.

        `folded` puts the picker in a closed expander with that label (the lesson keeps a phone's
        first screen for the step itself)."""
        if folded is None:
            picked = image_picker(self.ctx.spec)
        else:
            with st.expander(folded, icon=":material/photo_camera:"):
                picked = image_picker(self.ctx.spec)
        if picked is None:
            st.stop()
        return picked.ref


def weights_banner(key: ModelKey, loud: bool = True) -> Provenance:
    """Wait for the ImageNet download (with its progress bar) if it is under way; warn loudly when the
    weights are random (unless `loud` is off: the lesson says it in each step instead); return where
    the weights came from, for the page to show."""
    from ui.analysis import provenance
    from ui.weights_notice import await_imagenet, random_notice

    await_imagenet(key)
    with st.spinner("Loading the network and its weights…"):
        prov = or_stop(provenance, key)
    if prov.source == "random" and loud:
        random_notice(prov)
    return prov


def network_page(loud: bool = True) -> Page:
    """Open a page that shows the network's weights or insides: the context, then the weights banner."""
    ctx = context()
    prov = weights_banner(ctx.key, loud)
    return Page(ctx, prov.describe(), prov.source != "random")


def image_page() -> tuple[Page, ImageRef]:
    """Open a page about one photo: network_page, then the picker; the photo it returns is the one to show."""
    page = network_page()
    return page, page.image()
