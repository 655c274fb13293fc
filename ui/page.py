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
from ui.image_input import FOLD_KEY, image_picker, or_stop
from ui.state import Context, context


@dataclass(frozen=True)
class Page:
    """A page's context and where its weights came from (Provenance.describe), for the page to show."""

    ctx: Context
    about_weights: str
    trained: bool  # False for random, untrained weights
    put_off: Provenance | None = None  # random weights whose full warning waits for notice() below the answer

    def image(self, folded: str | None = None) -> ImageRef:
        """Draw the image picker here and return the picked photo; stop the run when it cannot be used.

        `folded` puts the picker in a closed expander with that label (a phone's first screen is kept
        for the answer); choosing a photo folds it again (ui.image_input.FOLD_KEY)."""
        if folded is None:
            picked = image_picker(self.ctx.spec)
        else:
            with st.expander(folded, icon=":material/photo_camera:", key=FOLD_KEY, on_change="rerun"):
                picked = image_picker(self.ctx.spec)
        if picked is None:
            st.stop()
        return picked.ref

    def notice(self) -> None:
        """The full random-weights warning, where an answer-first page put it (after its answer)."""
        if self.put_off is not None:
            from ui.weights_notice import random_notice

            random_notice(self.put_off)


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


def network_page(loud: bool = True, answer_first: bool = False) -> Page:
    """Open a page that shows the network's weights or insides: the context, then the weights banner.

    `answer_first` shortens a random-weights warning to one line here; the page draws the whole of it
    with `page.notice()` after its answer."""
    ctx = context()
    prov = weights_banner(ctx.key, loud and not answer_first)
    put_off = prov if answer_first and loud and prov.source == "random" else None
    if put_off is not None:
        from ui.state import imagenet_failure

        failure = imagenet_failure()
        why = ("its trained weights could not be downloaded** "
               f"({failure.reason})." if failure is not None else "this server runs random weights.**")
        st.warning(f"**This network is untrained: {why} What follows comes from random numbers, not from what a "
                   "trained AlexNet sees; more under the answer.", icon=":material/warning:")
    return Page(ctx, prov.describe(), prov.source != "random", put_off)


FOLDED = "The photo: a sample, your upload or the camera"


def image_page(answer_first: bool = False) -> tuple[Page, ImageRef]:
    """Open a page about one photo: network_page, then the picker; the photo it returns is the one to show.

    `answer_first` (feature maps, prediction): the picker is folded and the weights warning short, so
    on a phone the network's answer, not the controls, fills the first screen once a photo is chosen."""
    page = network_page(answer_first=answer_first)
    return page, page.image(folded=FOLDED if answer_first else None)
