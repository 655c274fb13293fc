"""What pages showing the network's insides say about its weights: the download's progress, the random-weights banner.

The ImageNet file is fetched once per server, in the background (alexnet_viz.core.download); every
session that opens such a page meanwhile watches the same progress bar. When the download fails
the server goes on with random weights, and the banner tells the learner what that means for what
they see; the details for whoever runs the server sit in an expander.
"""
from __future__ import annotations

from urllib.parse import urlparse

import streamlit as st

from alexnet_viz.core.download import Progress
from alexnet_viz.core.modelkey import ModelKey
from alexnet_viz.core.pretrained import imagenet_weights
from alexnet_viz.core.provenance import Provenance
from alexnet_viz.core.weightschoice import ENV_VAR, IMAGENET
from ui.state import imagenet_download, imagenet_failure, requested_weights

POLL_S = 0.3
MEANING = ("Everything on this page comes from a network whose weights are random numbers: the feature maps are "
           "artefacts of random numbers, not of the image; the filters are noise, not edge or colour detectors; "
           "the predictions and explanations mean nothing. The shapes and the arithmetic are real.")


def await_imagenet(key: ModelKey) -> None:
    """If `key` wants the ImageNet file and it is not there yet: show the shared download until it ends.

    When it ends the page reruns: on success the model loads and the sidebar names the file it now
    has; on failure context() names random weights and the banner says why.
    """
    if key.weights != IMAGENET:
        return
    fetcher = imagenet_download()
    if fetcher.dest.is_file() and fetcher.progress.state not in ("running", "waiting"):
        return
    now = fetcher.start()
    if now.state == "failed":
        st.rerun()
    box = st.empty()
    while now.state not in ("done", "failed"):
        with box.container():
            progress_bar(now)
        now = fetcher.wait(POLL_S)
    box.empty()
    st.rerun()  # failed: context() names random weights; done: the sidebar, drawn before, names ImageNet's


def progress_bar(now: Progress) -> None:
    """The download's bar: bytes, speed and time left, the same for every session."""
    if now.state == "waiting":
        text = f"Another process of this server is downloading the trained weights: {now.describe()}."
    else:
        text = f"Downloading the trained ImageNet weights, once for this server: {now.describe()}."
    st.progress(now.fraction or 0.0, text=text)
    st.caption("The network's insides only mean something with trained weights, so this page waits for them. "
               "Pages about the architecture (overview, layers, lab, operations, article) work meanwhile.")


def random_notice(prov: Provenance) -> None:
    """The banner for random weights: what happened, what it means for this page, how to fix it."""
    failure = imagenet_failure()
    path = imagenet_download().dest
    if failure is not None:
        st.warning(f"**This network is untrained: its trained weights could not be downloaded** "
                   f"({failure.reason}).\n\n{MEANING}\n\nTo see what a trained AlexNet makes of your image, try "
                   "the download again, or ask whoever runs this server to install the weights.",
                   icon=":material/warning:")
        st.button("Try the download again", key="weights_retry", on_click=_retry)
        with st.expander("For whoever runs the server"):
            st.markdown(f"The download of torchvision's ImageNet weights into `{path}` failed:\n\n> {failure.error}"
                        f"\n\n{_fixes(path)}")
        return
    chosen = requested_weights()
    st.warning(f"**This network is untrained: this server runs random weights** ({prov.note}).\n\n{MEANING}\n\n"
               "To see what a trained AlexNet makes of your image, ask whoever runs this server to start it "
               "with trained weights.", icon=":material/warning:")
    with st.expander("For whoever runs the server"):
        st.markdown(f"The server was started with weights `{chosen}` (`{ENV_VAR}`). Unset "
                    f"`{ENV_VAR}` to download torchvision's ImageNet weights on first use, or:\n\n{_fixes(path)}")


def _fixes(path: object) -> str:
    host = urlparse(imagenet_weights().url).netloc
    return (f"- make {host} reachable from the server and press *Try the download again* (or restart);\n"
            f"- or run `python -m alexnet_viz weights download` on a machine with internet, copy the file to "
            f"`{path}` and check it with `python -m alexnet_viz weights verify {path}`;\n"
            f"- or start the server with `{ENV_VAR}=PATH`, a state dict saved from this network;\n"
            f"- `TORCH_HOME` moves the cache folder; `{ENV_VAR}=random` chooses random weights on purpose.")


def _retry() -> None:
    imagenet_download().start(retry=True)
