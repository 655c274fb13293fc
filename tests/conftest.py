"""What several test files share: where the app's pages live."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# The folder the entry script registers its pages from (read, so renaming app_pages/ needs no edit in the tests).
PAGE_DIR = re.search(r'st\.Page\("([^"]+)/[^"/]+\.py"', (ROOT / "streamlit_app.py").read_text()).group(1)
