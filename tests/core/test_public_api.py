"""``trace_core``'s public face: ``from trace_core import Trace, Principal, ...``.

The names are imported on first use, so the tests check both that every name
resolves to the object its module defines and that importing the package (or
only its errors) loads nothing more.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

import trace_core
from trace_core import errors, inputs, model, ports

# Arguments Structs of the ChatGPT connector tools and the bases: transport details.
NOT_EXPORTED_INPUTS = {"ArgsStruct", "NoArgs", "SearchArgs", "FetchArgs"}


def _exported_by(module_name: str) -> set[str]:
    return set(trace_core._EXPORTS[module_name])


def test_every_public_name_is_the_object_its_module_defines() -> None:
    for name in trace_core.__all__:
        module = importlib.import_module(trace_core._SOURCE[name])
        assert name in module.__all__, f"{name} is not public in {module.__name__}"
        assert getattr(trace_core, name) is getattr(module, name)


def test_the_export_table_names_exactly_the_public_names() -> None:
    assert set(trace_core._SOURCE) == set(trace_core.__all__)
    assert len(trace_core._SOURCE) == len(trace_core.__all__)


def test_the_type_checkers_imports_match_the_export_table() -> None:
    tree = ast.parse(Path(inspect.getfile(trace_core)).read_text())
    guarded = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"
    )
    imported: dict[str, set[str]] = {}
    for node in guarded.body:
        assert isinstance(node, ast.ImportFrom)
        assert node.module is not None
        imported.setdefault(node.module, set()).update(alias.name for alias in node.names)
    assert imported == {module: set(names) for module, names in trace_core._EXPORTS.items()}


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        _ = trace_core.Nothing


def test_dir_lists_the_public_names() -> None:
    assert set(trace_core.__all__) <= set(dir(trace_core))


def test_the_model_errors_and_ports_are_exported_whole() -> None:
    assert set(model.__all__) == _exported_by("trace_core.model")
    error_classes = {name for name in errors.__all__ if inspect.isclass(getattr(errors, name))}
    assert error_classes == _exported_by("trace_core.errors")
    assert set(ports.__all__) == _exported_by("trace_core.ports")


def test_every_use_case_arguments_struct_is_exported() -> None:
    structs = {
        name
        for name in inputs.__all__
        if inspect.isclass(getattr(inputs, name))
        and issubclass(getattr(inputs, name), msgspec.Struct)
    }
    missing = structs - NOT_EXPORTED_INPUTS - _exported_by("trace_core.inputs")
    assert not missing, f"add {sorted(missing)} to trace_core/__init__.py (imports and _EXPORTS)"


_FRESH = """
import json, sys
import trace_core
bare = sorted(m for m in sys.modules if m.startswith("trace_core"))
from trace_core import InvalidInputError, Scope
light = sorted(m for m in sys.modules if m.startswith("trace_core"))
from trace_core import Trace
print(json.dumps([bare, light, "trace_core.service" in sys.modules]))
"""


def test_importing_the_package_or_its_errors_loads_neither_the_facade_nor_the_inputs() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _FRESH], capture_output=True, text=True, timeout=60, check=True
    )
    bare, light, facade = json.loads(done.stdout)
    assert bare == ["trace_core"]
    assert "trace_core.service" not in light
    assert "trace_core.inputs" not in light
    assert facade
