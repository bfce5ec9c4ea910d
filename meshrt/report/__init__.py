"""``meshrt report``: one self-contained HTML page of a run's figures (docs/report.md).

One streaming pass over the replay log gathers compact series (``series.py``), the
figures are built from them by the builders registered in ``figures.py`` and laid out
in ``page.py``; ``png.py`` shoots the same figures to images in the machine's Chromium.
Plotting and the browser are the optional extra ``meshrt[report]``: imported only here.
"""
