"""The parameter form of a creator template: ``setpiece create NAME --template T --form``.

One editor per parameter the creator declares (``setpiece.core.creators``): a drop-down
for ``choices``, a check box for ``bool``, a spin box for ``int`` and ``float``, a line
for text; the default filled in, a required parameter left empty, the ``help`` as the
tooltip. **Create** checks the values with the creator's own rules
(``Creator.check_params``: types, choices, required ones, its ``validate``) and keeps
the form open with the error under the fields until they pass. The values come back as
the strings ``--param`` would give. Qt is imported only when the form is made.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from setpiece.core.errors import SetpieceError

INT_RANGE = (-2_000_000_000, 2_000_000_000)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def make_form(creator: Any, name: str, given: Mapping[str, str] | None = None,
              parent: Any = None) -> Any:
    """The form (a ``QDialog``) for ``creator``'s parameters, ``given`` values filled in."""
    from Qt import QtWidgets

    from setpiece.hosts.ui.qtutil import ensure_app, enum

    ensure_app()
    filled: dict[str, str] = dict(given or {})

    class TemplateForm(QtWidgets.QDialog):
        def __init__(self) -> None:
            super().__init__(parent)
            self.setWindowTitle(f"{name}: template {creator.ref.name}")
            self.editors: dict[str, tuple[str, Any]] = {}
            self.values_given: dict[str, str] | None = None
            layout = QtWidgets.QVBoxLayout(self)
            head = QtWidgets.QLabel(f"New asset {name} from {creator.ref.name} "
                                    f"({creator.ref.who})")
            layout.addWidget(head)
            form = QtWidgets.QFormLayout()
            for key, spec in creator.parameters.items():
                editor, kind = self._editor(spec, filled.get(key))
                if spec.get("help"):
                    editor.setToolTip(str(spec["help"]))
                label = key if "default" in spec else f"{key} *"
                form.addRow(label, editor)
                self.editors[key] = (kind, editor)
            layout.addLayout(form)
            self.error = QtWidgets.QLabel("")
            self.error.setWordWrap(True)
            self.error.setStyleSheet("color: #d9534f")
            layout.addWidget(self.error)
            buttons: Any = QtWidgets.QDialogButtonBox
            which = getattr(buttons, "StandardButton", buttons)
            self.buttons = buttons(which.Ok | which.Cancel)
            self.buttons.button(which.Ok).setText("Create")
            self.buttons.accepted.connect(self.accept)
            self.buttons.rejected.connect(self.reject)
            layout.addWidget(self.buttons)

        def _editor(self, spec: Mapping[str, Any], value: str | None) -> tuple[Any, str]:
            kind = str(spec.get("type", "str"))
            current = value if value is not None else _text(spec.get("default"))
            if spec.get("choices"):
                box = QtWidgets.QComboBox()
                box.addItems([_text(c) for c in spec["choices"]])
                if current in [_text(c) for c in spec["choices"]]:
                    box.setCurrentText(current)
                return box, "choice"
            if kind == "bool":
                check = QtWidgets.QCheckBox()
                check.setChecked(current.strip().lower() in ("1", "true", "yes", "on"))
                return check, kind
            if kind == "int" and _number(current, kind):
                ints = QtWidgets.QSpinBox()
                ints.setRange(*INT_RANGE)
                ints.setValue(int(current))
                return ints, kind
            if kind == "float" and _number(current, kind):
                floats = QtWidgets.QDoubleSpinBox()
                floats.setRange(-1e12, 1e12)
                floats.setDecimals(4)
                floats.setValue(float(current))
                return floats, kind
            line = QtWidgets.QLineEdit(current)
            return line, "text"

        def values(self) -> dict[str, str]:
            """The form's values, as ``--param KEY=VALUE`` strings (empty ones left out)."""
            out: dict[str, str] = {}
            for key, (kind, editor) in self.editors.items():
                if kind == "choice":
                    text = str(editor.currentText())
                elif kind == "bool":
                    text = "true" if editor.isChecked() else "false"
                elif kind in ("int", "float"):
                    text = _text(editor.value())
                else:
                    text = str(editor.text())
                if text != "":
                    out[key] = text
            return out

        def accept(self) -> None:
            try:
                creator.check_params(self.values())
            except SetpieceError as exc:
                self.error.setText(str(exc))
                return
            self.values_given = self.values()
            super().accept()

    form = TemplateForm()
    form.setWindowModality(enum(_qt(), "WindowModality", "ApplicationModal"))
    return form


def _qt() -> Any:
    from Qt import QtCore

    return QtCore.Qt


def _number(text: str, kind: str) -> bool:
    try:
        (int if kind == "int" else float)(text)
    except ValueError:
        return False
    return True


def ask_params(creator: Any, name: str, given: Mapping[str, str] | None = None) -> dict[str, str]:
    """Show the form and wait; the values given, or a ``SetpieceError`` when cancelled or
    when Qt is not here."""
    from setpiece.hosts.ui.qtutil import qt_available

    if not qt_available():
        raise SetpieceError("the parameter form needs Qt (Qt.py and PySide2/6): give the "
                            "parameters with --param KEY=VALUE instead")
    form = make_form(creator, name, given)
    run = getattr(form, "exec", None) or form.exec_
    run()
    if form.values_given is None:
        raise SetpieceError(f"cancelled: {name} was not created")
    return dict(form.values_given)


__all__ = ["ask_params", "make_form"]
