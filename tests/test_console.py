"""The terminal (meshrt/console.py): colour and bars on a terminal, plain unwrapped text
without trailing spaces when piped."""

from __future__ import annotations

import pytest

from meshrt.console import Bar, show, table

ESC = "\x1b["


def wide_table() -> object:
    made = table("label", "figure", left=1)
    made.add_row("[a]", "1,234")  # printed as given: no rich markup
    made.add_row("b" * 150, "5")
    return made


def test_piped_output_is_plain_unwrapped_and_unpadded(capsys: pytest.CaptureFixture[str]) -> None:
    show(wide_table())
    out = capsys.readouterr().out
    assert ESC not in out
    lines = out.split("\n")
    assert lines[0].startswith("label") and lines[0].endswith("figure")
    assert set(lines[1]) == {"─"}
    assert lines[2].split() == ["[a]", "1,234"]
    assert lines[3] == "b" * 150 + "  " + "5".rjust(len("figure"))  # one line, however wide
    assert all(line == line.rstrip() for line in lines) and out.endswith("5\n")


def test_a_terminal_gets_colour_and_a_bar_with_its_eta(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # rich's way to say: this is a terminal
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "60")
    show(wide_table())
    out = capsys.readouterr().out
    assert ESC in out  # the bold header
    assert max(len(line) for line in out.split("\n")) < 200  # fitted to the terminal
    bar = Bar("run")
    assert bar.shown
    bar.update(25, 100, "t=0.250s")
    bar.update(50, 100, "t=0.500s")
    bar.close()
    err = capsys.readouterr().err
    assert "run" in err and "50%" in err and "ETA" in err and "t=0.500s" in err


def test_a_bar_on_a_pipe_draws_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    bar = Bar("soak")
    bar.update(1, 2, "1/2")
    bar.close()
    assert not bar.shown and capsys.readouterr().err == ""
