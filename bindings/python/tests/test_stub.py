"""The stub `_native.pyi` (generated from the spec) and the binary agree: every public name of
the stub exists in the module and vice versa, class by class, member by member, with the same
base classes. A drift in either direction fails here."""

from __future__ import annotations

import ast
import pathlib

import pytest

import greenapi_settings
import greenapi_settings._native as native

STUB = pathlib.Path(native.__file__).parent / "_native.pyi"
TREE = ast.parse(STUB.read_text())


def public(names: object) -> set[str]:
    return {n for n in names if not n.startswith("_")}  # type: ignore[attr-defined]


def type_checking_only(node: ast.stmt) -> bool:
    """A TypedDict (`SettingsPatchKwargs`) exists for type checkers only (stubtest's allowlist
    says so too); test_typed_kwargs.py checks it with mypy."""
    return isinstance(node, ast.ClassDef) and any(ast.unparse(b) == "TypedDict" for b in node.bases)


def stub_top_level() -> dict[str, ast.stmt]:
    out: dict[str, ast.stmt] = {}
    for node in TREE.body:
        if type_checking_only(node):
            continue
        if isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            out[node.name] = node
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            out[node.target.id] = node
    return out


def stub_classes() -> dict[str, ast.ClassDef]:
    return {n: c for n, c in stub_top_level().items() if isinstance(c, ast.ClassDef)}


def stub_members(cls: ast.ClassDef) -> set[str]:
    names = set()
    for node in cls.body:
        if isinstance(node, ast.FunctionDef):
            names.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            names.add(node.target.id)
    return public(names)


def test_every_stub_name_is_in_the_module_and_every_module_name_is_in_the_stub() -> None:
    in_stub = public(stub_top_level()) | {"__version__"}
    in_module = public(dir(native)) | {"__version__"}
    assert in_stub == in_module


def test_package_reexports_exactly_the_stub_names() -> None:
    assert set(greenapi_settings.__all__) == public(stub_top_level()) | {"__version__"}
    for name in greenapi_settings.__all__:
        assert getattr(greenapi_settings, name) is getattr(native, name)


@pytest.mark.parametrize("name", sorted(stub_classes()))
def test_class_bases_match_the_stub(name: str) -> None:
    def stub_base(node: ast.expr) -> str:
        # The stub names builtins bare (Exception) or qualified (builtins.TimeoutError).
        text = ast.unparse(node)
        return text if "." in text or text in stub_classes() else f"builtins.{text}"

    def runtime_base(base: type) -> str:
        return base.__name__ if base.__module__ == "greenapi_settings" else f"{base.__module__}.{base.__name__}"

    declared = [stub_base(b) for b in stub_classes()[name].bases] or ["builtins.object"]
    assert declared == [runtime_base(b) for b in getattr(native, name).__bases__]


def runtime_surface(name: str) -> object:
    """An object whose public attributes are the class's runtime surface: settings classes
    resolve their per-setting attributes dynamically, so they are inspected on an instance."""
    if name == "SettingsPatch":
        return greenapi_settings.SettingsPatch()
    if name == "Settings":
        return greenapi_settings.Settings.from_dict({})
    return getattr(native, name)


EXCEPTIONS = sorted(n for n in stub_classes() if n.endswith("Error"))
# Exceptions carry their data as instance attributes set when raised; the error tests check
# those. Every other class is compared member by member.
CLASSES = sorted(n for n in stub_classes() if n not in EXCEPTIONS)


@pytest.mark.parametrize("name", CLASSES)
def test_class_members_match_the_stub(name: str) -> None:
    assert stub_members(stub_classes()[name]) == public(dir(runtime_surface(name)))


@pytest.mark.parametrize("name", EXCEPTIONS)
def test_every_exception_class_in_the_stub_is_a_green_api_error(name: str) -> None:
    assert issubclass(getattr(native, name), native.GreenApiError)
    assert getattr(native, name).__module__ == "greenapi_settings"
