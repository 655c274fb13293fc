"""alexnet_viz: `streamlit run streamlit_app.py`. The server, then every visitor's run.

`streamlit run` reads this file in two ways. It finds the st.App below and imports the file as a
module to serve it: the App's lifespan prepares every page while the server starts
(ui/startup.py), so a fresh server's first visitors wait no longer than later ones. Each
visitor's run then executes the file as `__main__`: the navigation and the shared sidebar
(ui/navigation.py).
"""
import streamlit as st

if __name__ == "__main__":  # a visitor's run
    from ui.navigation import run

    run()
else:  # imported by `streamlit run` to serve the app
    from ui.startup import lifespan

    app = st.App("streamlit_app.py", lifespan=lifespan)
