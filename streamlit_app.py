"""alexnet_viz: `streamlit run streamlit_app.py`. Navigation and the shared sidebar."""
import streamlit as st

from ui.state import sidebar

st.set_page_config(page_title="AlexNet, computed and explained", page_icon="🧠", layout="wide")

PAGES = {
    "The architecture": [
        st.Page("pages/overview.py", title="Overview", icon="🏗️", url_path="overview", default=True),
        st.Page("pages/layers.py", title="Layer by layer", icon="🔎", url_path="layers"),
        st.Page("pages/lab.py", title="Architecture lab", icon="🧪", url_path="lab"),
        st.Page("pages/operations.py", title="The operations", icon="➗", url_path="operations"),
        st.Page("pages/article.py", title="The article, checked", icon="✅", url_path="article"),
    ],
    "An image through the network": [
        st.Page("pages/feature_maps.py", title="Feature maps", icon="🗺️", url_path="feature-maps"),
        st.Page("pages/filters.py", title="Filters", icon="🎛️", url_path="filters"),
        st.Page("pages/prediction.py", title="Prediction and why", icon="🎯", url_path="prediction"),
    ],
}

page = st.navigation(PAGES)
sidebar()
page.run()
