"""Pictures as pure functions of data: plotly figures, image mosaics, the colour language."""
