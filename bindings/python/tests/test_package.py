"""The package under test is the installed wheel, built as an abi3 extension with its stub."""

import pathlib
import sys

import greenapi_settings
import greenapi_settings._native as native

SOURCE_TREE = pathlib.Path(__file__).resolve().parents[1] / "python"


def test_package_is_imported_from_the_installed_wheel_not_the_source_tree() -> None:
    installed = pathlib.Path(greenapi_settings.__file__).resolve()
    assert SOURCE_TREE not in installed.parents, installed
    assert "site-packages" in installed.parts


def test_native_module_is_an_abi3_extension_next_to_its_stub_and_py_typed() -> None:
    so = pathlib.Path(native.__file__)
    assert so.name.startswith("_native.") and ".abi3." in so.name
    assert (so.parent / "_native.pyi").is_file()
    assert (so.parent / "py.typed").is_file()


def test_installed_stub_is_the_generated_one_from_the_source_tree() -> None:
    installed = pathlib.Path(native.__file__).parent / "_native.pyi"
    assert installed.read_text() == (SOURCE_TREE / "greenapi_settings" / "_native.pyi").read_text()


def test_version_is_the_crate_version() -> None:
    assert greenapi_settings.__version__ == native.__version__
    assert greenapi_settings.__version__.count(".") == 2


def test_python_is_at_least_the_minimum_the_wheel_declares() -> None:
    assert sys.version_info >= (3, 9)


def test_the_distribution_metadata_has_a_summary_readme_urls_classifiers_and_the_console_script() -> None:
    # Issue 19: what an index page and `pip show` show, and the `greenapi-settings` command.
    from importlib.metadata import distribution

    dist = distribution("greenapi-settings")
    meta = dist.metadata
    assert "GREEN-API" in meta["Summary"]
    assert meta["Description-Content-Type"].startswith("text/markdown")
    assert "greenapi-settings" in (meta.get_payload() or "")  # type: ignore[attr-defined]
    urls = dict(u.split(", ", 1) for u in meta.get_all("Project-URL") or [])
    assert {"Repository", "Documentation", "Changelog", "Issues"} <= set(urls)
    classifiers = meta.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers and "Programming Language :: Rust" in classifiers
    scripts = {e.name: e.value for e in dist.entry_points if e.group == "console_scripts"}
    assert scripts == {"greenapi-settings": "greenapi_settings.cli:main"}
