"""alexnet_viz: `streamlit run streamlit_app.py`. Navigation and the shared sidebar.

Page scripts live in app_pages/, not pages/: a folder named pages/ beside this script makes
Streamlit run a process's first script run as a legacy multipage app, so the first deep link
to a fresh server showed a "Page not found" dialog before st.navigation took over.
"""
import streamlit as st

from ui.hardening import install as install_server_guards
from ui.state import sidebar

install_server_guards()  # a visitor's clear_cache request must not empty every visitor's caches

st.set_page_config(page_title="AlexNet, computed and explained", page_icon="🧠", layout="wide")

OVERVIEW = st.Page("app_pages/overview.py", title="Overview", icon=":material/view_in_ar:", url_path="overview")


def _home() -> None:
    """The app's root: Streamlit serves the default page at "/" only, so /overview would be "not found"
    if the overview were the default; the root hands over to it instead, keeping the link's parameters."""
    st.switch_page(OVERVIEW, query_params=st.query_params.to_dict())


PAGES = {
    "The architecture": [
        OVERVIEW,
        st.Page("app_pages/layers.py", title="Layer by layer", icon=":material/layers:", url_path="layers"),
        st.Page("app_pages/lab.py", title="Architecture lab", icon=":material/science:", url_path="lab"),
        st.Page("app_pages/operations.py", title="The operations", icon=":material/calculate:", url_path="operations"),
        st.Page("app_pages/article.py", title="The article, checked", icon=":material/fact_check:", url_path="article"),
    ],
    "An image through the network": [
        st.Page("app_pages/feature_maps.py", title="Feature maps", icon=":material/grid_view:",
                url_path="feature-maps"),
        st.Page("app_pages/filters.py", title="Filters", icon=":material/tune:", url_path="filters"),
        st.Page("app_pages/prediction.py", title="Prediction and why", icon=":material/target:", url_path="prediction"),
        st.Page("app_pages/ideas.py", title="AlexNet's ideas", icon=":material/lightbulb:", url_path="ideas"),
        st.Page("app_pages/unit.py", title="Inside one unit", icon=":material/center_focus_strong:", url_path="unit"),
        st.Page("app_pages/training.py", title="Training", icon=":material/model_training:", url_path="training"),
    ],
}

HOME = st.Page(_home, title="Home", url_path="home", default=True, visibility="hidden")
page = st.navigation({"": [HOME], **PAGES})
sidebar()
page.run()
