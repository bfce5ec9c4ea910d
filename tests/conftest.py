import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# tests import their helpers and the bundled scenarios' algos by module name
for path in (ROOT / "tests", ROOT):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))
