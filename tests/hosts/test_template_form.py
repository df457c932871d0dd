"""The Qt parameter form of a creator template (Qt offscreen), against a real workspace
whose ShotTemplate creator is an editable output asset installed with uv."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything imports Qt
pytest.importorskip("Qt", reason="Qt.py is not installed")

CREATOR = '''
class ShotTemplate:
    kind = "shot"
    parameters = {
        "frames": {"default": 100, "type": "int", "help": "length in frames"},
        "fps": {"default": "24", "choices": ["24", "25", "30"]},
        "stereo": {"default": False, "type": "bool"},
        "set": {"help": "the set the shot happens in"},
    }

    def validate(self, params):
        if params["frames"] <= 0:
            raise ValueError("frames must be positive")

    def create(self, ctx):
        ctx.write("shot.json", '{"frames": %d, "fps": %s, "stereo": %s}' % (
            ctx.params["frames"], ctx.params["fps"], str(ctx.params["stereo"]).lower()))
'''


@pytest.fixture
def ws(make_workspace: Callable[..., Any], run_cli: Callable[..., Any]) -> Any:
    ws = make_workspace()
    assert run_cli("-w", ws.root, "create", "ShotTemplate", "--kind", "tool", "-q").exit_code == 0
    tpl = ws.output("ShotTemplate")
    (Path(tpl.package_dir) / "creator.py").write_text(CREATOR)
    tpl.add_entry_point("setpiece.creators", "ShotTemplate", "shottemplate.creator:ShotTemplate")
    return ws


def _ok_button(form: Any) -> Any:
    from Qt import QtWidgets

    box: Any = QtWidgets.QDialogButtonBox
    return form.buttons.button(getattr(box, "StandardButton", box).Ok)


def test_form_shows_each_parameter_and_keeps_errors_in_view(ws: Any) -> None:
    from Qt import QtWidgets

    from setpiece.core.creators import find_creator
    from setpiece.hosts.ui.template_form import make_form

    form = make_form(find_creator(ws, "ShotTemplate"), "Sh010", {"fps": "25"})
    kinds = {k: type(e).__name__ for k, (_, e) in form.editors.items()}
    assert kinds == {"frames": "QSpinBox", "fps": "QComboBox", "stereo": "QCheckBox",
                     "set": "QLineEdit"}
    frames = form.editors["frames"][1]
    assert frames.value() == 100 and frames.toolTip() == "length in frames"
    assert form.editors["fps"][1].currentText() == "25"
    form.show()

    _ok_button(form).click()  # 'set' is required and empty
    assert form.values_given is None and form.isVisible()
    assert "needs --param set=VALUE" in form.error.text()

    form.editors["set"][1].setText("Kitchen")
    frames.setValue(0)
    _ok_button(form).click()
    assert form.values_given is None
    assert "frames must be positive" in form.error.text()

    frames.setValue(48)
    form.editors["stereo"][1].setChecked(True)
    _ok_button(form).click()
    assert form.values_given == {"frames": "48", "fps": "25", "stereo": "true", "set": "Kitchen"}
    assert not form.isVisible()
    assert isinstance(form, QtWidgets.QDialog)


def _answer_form(action: Callable[[Any], None]) -> None:
    """Once the form is up (inside the command's exec loop), act on it."""
    from Qt import QtCore, QtWidgets

    def attempt() -> None:
        forms = [w for w in QtWidgets.QApplication.topLevelWidgets()
                 if type(w).__name__ == "TemplateForm" and w.isVisible()]
        if not forms:
            QtCore.QTimer.singleShot(20, attempt)
            return
        action(forms[0])

    QtCore.QTimer.singleShot(0, attempt)


def test_create_with_form_from_the_command_line(ws: Any, run_cli: Callable[..., Any],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from setpiece.hosts.ui.qtutil import ensure_app

    ensure_app()

    def fill(form: Any) -> None:
        form.editors["frames"][1].setValue(24)
        form.editors["set"][1].setText("Kitchen")
        _ok_button(form).click()

    _answer_form(fill)
    r = run_cli("-w", ws.root, "create", "Sh010", "--template", "ShotTemplate", "-p", "fps=30",
                "--form")
    assert r.exit_code == 0, r.err
    shot = Path(ws.output("Sh010").package_dir) / "shot.json"
    assert json.loads(shot.read_text()) == {"frames": 24, "fps": 30, "stereo": False}

    _answer_form(lambda form: form.reject())
    run_cli("-w", ws.root, "create", "Sh020", "--template", "ShotTemplate", "--form"
            ).user_error("cancelled: Sh020 was not created")
    assert not (ws.outputs / "Sh020").exists()

    run_cli("-w", ws.root, "create", "Tool", "--template", "nuke-gizmo", "--form"
            ).user_error("takes no parameters: drop --form")
    monkeypatch.setenv("SETPIECE_NO_QT", "1")
    run_cli("-w", ws.root, "create", "Sh030", "--template", "ShotTemplate", "--form"
            ).user_error("the parameter form needs Qt", "--param")
