import streamlit as st

st.write("floor: the cheapest Streamlit page, for comparing load-test figures")
