"""Every visitor's run: the page list, the shared sidebar, then the page the address names.

Page scripts live in app_pages/, not pages/: a folder named pages/ beside the entry script makes
Streamlit run a process's first script run as a legacy multipage app, so the first deep link
to a fresh server showed a "Page not found" dialog before st.navigation took over.
"""
from __future__ import annotations

import streamlit as st

from ui.hardening import install as install_server_guards
from ui.state import sidebar

PAGE_DIR = "app_pages"
# (section, [(script in PAGE_DIR, title, material icon, url path)]): the navigation as data.
SECTIONS: tuple[tuple[str, tuple[tuple[str, str, str, str], ...]], ...] = (
    ("The architecture", (
        ("overview", "Overview", "view_in_ar", "overview"),
        ("layers", "Layer by layer", "layers", "layers"),
        ("lab", "Architecture lab", "science", "lab"),
        ("operations", "The operations", "calculate", "operations"),
        ("article", "The article, checked", "fact_check", "article"),
    )),
    ("An image through the network", (
        ("feature_maps", "Feature maps", "grid_view", "feature-maps"),
        ("filters", "Filters", "tune", "filters"),
        ("prediction", "Prediction and why", "target", "prediction"),
        ("ideas", "AlexNet's ideas", "lightbulb", "ideas"),
        ("unit", "Inside one unit", "center_focus_strong", "unit"),
        ("training", "Training", "model_training", "training"),
    )),
)
LANDING = f"{PAGE_DIR}/overview.py"


def _home() -> None:
    """The app's root: Streamlit serves the default page at "/" only, so /overview would be "not found"
    if the overview were the default; the root hands over to it instead, keeping the link's parameters."""
    st.switch_page(LANDING, query_params=st.query_params.to_dict())


def _pages() -> dict[str, list[st.Page]]:
    """The navigation, by section; made in every run, as Streamlit's pages belong to a run."""
    pages: dict[str, list[st.Page]] = {"": [st.Page(_home, title="Home", url_path="home", default=True,
                                                    visibility="hidden")]}
    for section, rows in SECTIONS:
        pages[section] = [st.Page(f"{PAGE_DIR}/{script}.py", title=title, icon=f":material/{icon}:", url_path=path)
                          for script, title, icon, path in rows]
    return pages


def run() -> None:
    """One visitor's run. The guards go first: a visitor's clear_cache request must not empty every
    visitor's caches (ui/hardening.py)."""
    install_server_guards()
    st.set_page_config(page_title="AlexNet, computed and explained", page_icon="🧠", layout="wide")
    page = st.navigation(_pages())
    sidebar()
    page.run()
