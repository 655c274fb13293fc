"""Streamlit glue shared by the pages: sidebar, cached shared resources, query parameters.

The library (alexnet_viz) never imports streamlit; everything that does lives here or in app_pages/.
"""
