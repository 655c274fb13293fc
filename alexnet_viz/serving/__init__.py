"""Serving a class: several Streamlit processes behind HAProxy."""
