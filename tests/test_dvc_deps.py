"""dvc.yaml's ``deps`` and ``params`` cover what each stage really reads, so they cannot drift.

Code: each stage's import closure is computed statically (``ast``) from the module its ``cmd``
runs, following imports inside ``pipeline/``; every file of it must be listed in the stage's
``deps`` (as itself or under a listed directory), and every ``pipeline/`` dep must exist.

Config: every stage's ``main(config)`` runs in this process on a tiny project while a recorder
notes each config key it reads; every key must be covered by the stage's ``params``.
"""

from __future__ import annotations

import ast
import functools
import json
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from pipeline import cli
from pipeline.config import _Section, load_config
from pipeline.stance.train import TRAINING_KEYS
from tests.conftest import ROOT

PACKAGE = "pipeline"
DVC_YAML = ROOT / "dvc.yaml"
#: modules that find files through the package's location (``__file__``, importlib.resources, pkgutil),
#: and the files under it they read at run time (repository paths; a directory stands for all its files):
#: they join the closure of every stage importing the module; test_package_file_readers_are_known fails
#: on a module that does this without an entry here
PACKAGE_READS: dict[str, set[str]] = {
    "pipeline/artifacts.py": set(),  # Path(__file__) only tells the package's frames apart (warnings' stacklevel)
    "pipeline/report/provenance.py": {"pipeline"},  # the report's footer: the git tree id of all of pipeline/
}

# Code whose imports are not followed, because no stage runs it:
#: - every function of pipeline/__init__.py: the public API for downstream code (``load``, ``load_topics``,
#:   ``load_stance`` and their helpers, which import the models and the bundle lazily, and the PEP 562
#:   ``__getattr__`` giving ``pipeline.Bundle`` without importing numpy); stages import what they need
#:   from the submodules, and test_stages_do_not_call_the_package_api checks that none calls these
SKIP_ALL_FUNCTIONS_IN = {f"{PACKAGE}/__init__.py"}
#: - cli.run_exp: the ``exp`` verb (pipeline/experiments.py), not a stage
SKIP_FUNCTIONS = {(f"{PACKAGE}/cli.py", "run_exp")}
#: - imports under ``if TYPE_CHECKING:`` (for annotations only), wherever they stand (see imported_modules)


def load_dvc() -> dict[str, Any]:
    return yaml.safe_load(DVC_YAML.read_text(encoding="utf-8"))


def stage_command(stage: str, spec: dict[str, Any]) -> tuple[str, Path]:
    """The CLI stage a dvc.yaml stage runs and the config file it passes (``python -m pipeline STAGE --config F``)."""
    argv = shlex.split(spec["cmd"])
    assert argv[:3] == ["python", "-m", PACKAGE], f"{stage}: unexpected cmd {spec['cmd']!r}"
    name = argv[3]
    assert name in cli.STAGES, f"{stage}: cmd runs {name!r}, not a stage of pipeline.cli.STAGES"
    config = argv[argv.index("--config") + 1] if "--config" in argv else str(cli.DEFAULT_CONFIG)
    return name, Path(config)


# ----------------------------------------------------------------------------- import closure


def module_file(module: str) -> Path | None:
    """The file of ``pipeline...`` module ``module`` (a package's ``__init__.py``), None outside pipeline/."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = ROOT.joinpath(*parts)
    if (base / "__init__.py").is_file():
        return base / "__init__.py"
    if base.with_suffix(".py").is_file():
        return base.with_suffix(".py")
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
    return ".".join(parts)


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _skipped(path: Path, node: ast.AST, depth: int) -> bool:
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) or depth:
        return False
    rel = path.relative_to(ROOT).as_posix()
    return rel in SKIP_ALL_FUNCTIONS_IN or (rel, node.name) in SKIP_FUNCTIONS


def containing_package(path: Path) -> str:
    """The package relative imports in ``path`` start from."""
    own = module_name(path)
    return own if path.name == "__init__.py" else own.rpartition(".")[0]


def import_base(package: str, node: ast.ImportFrom) -> str:
    """The absolute module of ``from X import ...`` in ``package`` (``from .. import y`` -> the parent)."""
    if not node.level:
        return node.module or ""
    parts = package.split(".")
    parts = parts[: len(parts) - (node.level - 1)]
    return ".".join(parts + ([node.module] if node.module else []))


@functools.cache
def imported_modules(path: Path) -> frozenset[str]:
    """Every module an import statement in ``path`` may load (anywhere in it, functions included).

    ``from X import y`` yields ``X`` and ``X.y`` (``X.y`` counts when it is a module file);
    ``importlib.import_module("literal")`` counts as an import of that name.
    """
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = containing_package(path)
    found: set[str] = set()

    def visit(node: ast.AST, depth: int) -> None:
        if _skipped(path, node, depth):
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child, depth)
            return
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = import_base(package, node)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "import_module"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            found.add(node.args[0].value)
        inner = depth + isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        for child in ast.iter_child_nodes(node):
            visit(child, inner)

    for statement in tree.body:
        visit(statement, 0)
    return frozenset(found)


def closure(*roots: str) -> set[str]:
    """Repository-relative paths of the files ``roots`` load, with the packages above each module."""
    files: set[Path] = set()
    todo = list(roots)
    while todo:
        module = todo.pop()
        parts = module.split(".")
        for i in range(1, len(parts) + 1):  # importing a.b.c runs a/__init__.py and a/b/__init__.py first
            path = module_file(".".join(parts[:i]))
            if path is not None and path not in files:
                files.add(path)
                todo.extend(imported_modules(path))
    return {path.relative_to(ROOT).as_posix() for path in files}


def reads_package_files(path: Path) -> bool:
    """Whether ``path`` locates files through the package (``__file__``, importlib.resources, pkgutil)."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Name) and node.id == "__file__":
            return True
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""] + [
                f"{node.module}.{a.name}" for a in node.names]
            if any(n.startswith(("importlib.resources", "importlib_resources", "pkgutil")) for n in names):
                return True
    return False


def code_closure(cli_stage: str) -> set[str]:
    """What ``python -m pipeline STAGE`` loads (the entry point, the CLI, the stage's module) and reads."""
    files = closure(f"{PACKAGE}.__main__", cli.STAGES[cli_stage][0])
    return files.union(*(PACKAGE_READS.get(rel, set()) for rel in files))


def resolve_vars(text: str, variables: dict[str, Any]) -> str:
    """``${a.b}`` replaced from dvc.yaml's vars (configs/default.yaml)."""
    out, rest = "", text
    while "${" in rest:
        head, _, tail = rest.partition("${")
        key, _, rest = tail.partition("}")
        value: Any = variables
        for part in key.strip().split("."):
            value = value[part]
        out += head + str(value)
    return out + rest


def dvc_vars(dvc: dict[str, Any]) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for entry in dvc.get("vars", []):
        if isinstance(entry, str):
            variables.update(yaml.safe_load((ROOT / entry).read_text(encoding="utf-8")))
        else:
            variables.update(entry)
    return variables


def covered_by(path: str, deps: list[str]) -> bool:
    target = PurePosixPath(path)
    return any(target == PurePosixPath(dep) or PurePosixPath(dep) in target.parents for dep in deps)


def test_every_stage_lists_its_code_and_no_missing_file():
    dvc = load_dvc()
    variables = dvc_vars(dvc)
    uncovered, missing = [], []
    for stage, spec in dvc["stages"].items():
        cli_stage, _ = stage_command(stage, spec)
        deps = [resolve_vars(str(dep), variables).rstrip("/") for dep in spec.get("deps", [])]
        for dep in deps:
            if PurePosixPath(dep).parts[:1] == (PACKAGE,) and not (ROOT / dep).exists():
                missing.append(f"  {stage}: {dep}")
        uncovered += [f"  {stage}: {path}" for path in sorted(code_closure(cli_stage)) if not covered_by(path, deps)]
    message = []
    if uncovered:
        message.append("dvc.yaml: stages read code their deps do not list (stage: file):\n" + "\n".join(uncovered))
    if missing:
        message.append("dvc.yaml: deps that do not exist (stage: dep):\n" + "\n".join(missing))
    assert not message, "\n".join(message)


def test_closure_follows_lazy_relative_and_submodule_imports():
    stance = code_closure("stance")
    # top of the CLI, a lazy import in cli.main, a package's __init__ pulled by its submodule, a module
    # imported from the parent package (pipeline.paragraphs), `from . import x` of a submodule
    assert {"pipeline/__init__.py", "pipeline/__main__.py", "pipeline/cli.py", "pipeline/logs.py",
            "pipeline/stance/__init__.py", "pipeline/paragraphs.py", "pipeline/stance/predict.py"} <= stance
    assert not any(f.startswith("pipeline/topics/") for f in stance)  # no stage imports another stage's package
    assert "pipeline/topics/__init__.py" in code_closure("prevalence")  # pipeline.topics.prevalence
    assert "pipeline/topics/quality.py" in code_closure("topics")  # from . import engines, quality
    for stage in cli.STAGES:
        closed = code_closure(stage)
        assert "pipeline/experiments.py" not in closed  # cli.run_exp only
        assert "pipeline/bundle.py" not in closed  # pipeline.load / pipeline.Bundle only
    assert code_closure("check") == {"pipeline/__init__.py", "pipeline/__main__.py", "pipeline/cli.py", "pipeline/cpu.py",
                                     "pipeline/config/__init__.py", "pipeline/config/defaults.py",
                                     "pipeline/config/loader.py", "pipeline/config/schema.py",
                                     "pipeline/errors.py", "pipeline/logs.py"}


def test_skipped_functions_exist():
    for rel, name in SKIP_FUNCTIONS:
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        assert any(isinstance(n, ast.FunctionDef) and n.name == name for n in tree.body), f"{rel}: no {name}()"


def test_stages_do_not_call_the_package_api():
    """The functions of pipeline/__init__.py are not followed: no stage may use them."""
    tree = ast.parse((ROOT / PACKAGE / "__init__.py").read_text(encoding="utf-8"))
    api = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)} | {"Bundle"}
    used = []
    for stage in cli.STAGES:
        for rel in sorted(closure(f"{PACKAGE}.__main__", cli.STAGES[stage][0]) - {f"{PACKAGE}/__init__.py"}):
            path = ROOT / rel
            package = containing_package(path)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom):
                    if import_base(package, node) == PACKAGE:
                        used += [f"  {stage}: {rel} imports {a.name}" for a in node.names if a.name in api]
                elif (isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
                      and node.value.id == PACKAGE and node.attr in api):
                    used.append(f"  {stage}: {rel} uses {PACKAGE}.{node.attr}")
    assert not used, "stages call pipeline/__init__.py functions; follow their imports in this test:\n" + "\n".join(used)


def test_package_file_readers_are_known():
    """Code that reads files through the package's location says which (PACKAGE_READS)."""
    readers = {rel for stage in cli.STAGES for rel in closure(f"{PACKAGE}.__main__", cli.STAGES[stage][0])
               if reads_package_files(ROOT / rel)}
    unknown = sorted(readers - set(PACKAGE_READS))
    assert not unknown, f"enter the package files these modules read in PACKAGE_READS: {unknown}"
    for rel, read in PACKAGE_READS.items():
        assert (ROOT / rel).is_file() and reads_package_files(ROOT / rel), f"PACKAGE_READS: stale entry {rel}"
        assert all((ROOT / path).exists() for path in read), f"PACKAGE_READS[{rel}]: {read}"


# ----------------------------------------------------------------------------- params


def stage_params(spec: dict[str, Any], config_file: Path) -> list[str] | None:
    """The keys of ``config_file`` a stage declares as params; None for the whole file."""
    keys: list[str] = []
    for entry in spec.get("params", []):
        if isinstance(entry, dict):
            for file, listed in entry.items():
                if PurePosixPath(file) != PurePosixPath(config_file.as_posix()):
                    continue
                if not listed:
                    return None
                keys += [str(k) for k in listed]
        # a bare string is a key of params.yaml, not of our config
    return keys


def param_covered(key: str, params: list[str] | None) -> bool:
    return params is None or any(key == p or key.startswith(p + ".") for p in params)


def leaf_keys(section: _Section, path: str) -> Iterator[str]:
    """Dotted keys of the leaves below ``section`` (a list of sections is one leaf)."""
    for name in type(section).model_fields:
        value = object.__getattribute__(section, name)
        key = f"{path}.{name}" if path else name
        if isinstance(value, _Section):
            yield from leaf_keys(value, key)
        else:
            yield key


class ConfigReads:
    """Records the config keys read while installed.

    Each section object of the config is mapped to its dotted path (the items of a list of
    sections, ``stance.targets``, to the list's key). Reading a field that is not a section,
    or dumping a section (``model_dump`` reads every field without ``__getattribute__``), records
    its leaf keys. ``model_copy`` registers the copy under the original's path, minus the fields
    it overrides (``sweep`` copies ``topics`` with its own ``num_topics``).
    """

    def __init__(self, config: _Section, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keys: set[str] = set()
        #: id -> (section, path, whole: every read is the path itself, overridden fields)
        self.paths: dict[int, tuple[Any, str, bool, frozenset[str]]] = {}
        self._register(config, "", False)
        recorder = self
        original_getattribute = _Section.__getattribute__
        original_dump = _Section.model_dump
        original_copy = _Section.model_copy

        def getattribute(section: Any, name: str) -> Any:
            value = original_getattribute(section, name)
            entry = recorder.paths.get(id(section))
            if entry is not None and entry[0] is section and name in type(section).model_fields:
                _, path, whole, overridden = entry
                if whole:
                    recorder.keys.add(path)
                elif name not in overridden and not isinstance(value, _Section):
                    recorder.keys.add(f"{path}.{name}" if path else name)
            return value

        def model_dump(section: Any, *args: Any, **kwargs: Any) -> Any:
            entry = recorder.paths.get(id(section))
            if entry is not None and entry[0] is section:
                _, path, whole, overridden = entry
                if whole:
                    recorder.keys.add(path)
                else:
                    include, exclude = kwargs.get("include"), kwargs.get("exclude")
                    for name in type(section).model_fields:
                        if (include is not None and name not in include) or name in overridden or (
                                isinstance(exclude, set | frozenset) and name in exclude):
                            continue
                        value = original_getattribute(section, name)
                        key = f"{path}.{name}" if path else name
                        recorder.keys.update(leaf_keys(value, key) if isinstance(value, _Section) else [key])
            return original_dump(section, *args, **kwargs)

        def model_copy(section: Any, *args: Any, **kwargs: Any) -> Any:
            copy = original_copy(section, *args, **kwargs)
            entry = recorder.paths.get(id(section))
            if entry is not None and entry[0] is section:
                _, path, whole, overridden = entry
                recorder.paths[id(copy)] = (copy, path, whole, overridden | set(kwargs.get("update") or {}))
            return copy

        monkeypatch.setattr(_Section, "__getattribute__", getattribute)
        monkeypatch.setattr(_Section, "model_dump", model_dump)
        monkeypatch.setattr(_Section, "model_copy", model_copy)

    def _register(self, section: _Section, path: str, whole: bool) -> None:
        # the section itself is kept in the entry, so its id cannot be reused by another object
        self.paths[id(section)] = (section, path, whole, frozenset())
        for name in type(section).model_fields:
            value = object.__getattribute__(section, name)
            key = f"{path}.{name}" if path else name
            if isinstance(value, _Section):
                self._register(value, key, whole)
            elif isinstance(value, list | tuple):
                for item in value:
                    if isinstance(item, _Section):
                        self._register(item, path if whole else key, True)


def tiny_project(root: Path) -> None:
    """The seed articles and a few labelled examples at the config's default (relative) paths."""
    shutil.copytree(ROOT / "seeds", root / "seeds")
    labels = (ROOT / "data" / "labels" / "train" / "written.jsonl").read_text(encoding="utf-8").splitlines(True)
    (root / "data" / "labels" / "train").mkdir(parents=True)
    (root / "data" / "labels" / "train" / "written.jsonl").write_text("".join(labels[::6]), encoding="utf-8")


#: a config small enough for every stage to run in seconds (compute.n_jobs 1: every read is in this process)
TINY_OVERRIDES = [
    "topics.num_topics=4",
    "topics.tomotopy_iterations=30",
    "topics.metrics_sample=200",
    "sweep.num_topics=[3, 4]",
    "stance.cv_folds=2",
    "stance.calibration_folds=2",
    "compute.n_jobs=1",
]


#: keys a stage reads only on paths the tiny run does not take, with the file and the code that reads
#: each (test_branch_reads_are_current drops an entry whose code is gone)
BRANCH_READS: dict[str, dict[str, tuple[str, str]]] = {
    # the transformer engine: torch threads of the classifying process
    "stance": {"stance.transformer.threads": ("pipeline/stance/predict.py", "settings.transformer.threads")},
}


@pytest.fixture(scope="module")
def config_reads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """The config keys each stage reads, running every stage in dvc.yaml's order on a tiny project."""
    import importlib

    root = tmp_path_factory.mktemp("tiny")
    tiny_project(root)
    dvc = load_dvc()
    reads: dict[str, set[str]] = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(root)
        for stage, spec in dvc["stages"].items():
            cli_stage, config_file = stage_command(stage, spec)
            config = load_config(ROOT / config_file, TINY_OVERRIDES)
            module_name_, func_name, _ = cli.STAGES[cli_stage]
            func = getattr(importlib.import_module(module_name_), func_name)
            with pytest.MonkeyPatch.context() as patch:
                recorder = ConfigReads(config, patch)
                func(config)
                reads[stage] = recorder.keys
    return reads


def test_every_stage_lists_the_config_keys_it_reads(config_reads):
    dvc = load_dvc()
    uncovered = []
    for stage, spec in dvc["stages"].items():
        _, config_file = stage_command(stage, spec)
        params = stage_params(spec, config_file)
        read = config_reads[stage] | set(BRANCH_READS.get(stage, {}))
        uncovered += [f"  {stage}: {key}" for key in sorted(read) if not param_covered(key, params)]
    assert not uncovered, "dvc.yaml: stages read config keys their params do not list (stage: key):\n" + "\n".join(
        uncovered)


def test_recorder_sees_reads_and_dumps(config_reads):
    # plain reads, reads through a list of sections (stance.targets), a nested section read only by a
    # dump (the stance model's meta.json records stance.transformer), a copy (sweep's topics per K)
    assert {"stance.C", "stance.targets", "stance.transformer.base"} <= config_reads["train_stance"]
    assert "stance.batch_size" not in config_reads["train_stance"]
    assert {"topics.num_topics", "topics.top_n", "compute.n_jobs"} <= config_reads["topics"]
    assert {"sweep.num_topics", "topics.seed"} <= config_reads["sweep"]
    assert "chunk.dedup.threshold" in config_reads["chunk"]


def test_branch_reads_are_current():
    config = load_config(ROOT / "configs" / "default.yaml")
    leaves = set(leaf_keys(config, ""))
    for stage, keys in BRANCH_READS.items():
        assert stage in load_dvc()["stages"], stage
        for key, (rel, code) in keys.items():
            assert key in leaves, f"BRANCH_READS[{stage}]: {key} is not a config key"
            assert code in (ROOT / rel).read_text(encoding="utf-8"), f"BRANCH_READS[{stage}]: {rel} no longer has {code}"


def test_train_stance_params_are_the_keys_its_model_records():
    """meta.json of the stance model holds exactly the keys train_stance declares as params."""
    dvc = load_dvc()
    spec = dvc["stages"]["train_stance"]
    params = stage_params(spec, stage_command("train_stance", spec)[1])
    assert params is not None
    assert sorted(p.removeprefix("stance.") for p in params if p.startswith("stance.")) == sorted(TRAINING_KEYS)
    assert {p for p in params if not p.startswith("stance.")} == set()


def test_stance_meta_records_only_training_keys(tmp_path, monkeypatch):
    from pipeline.stance import train as train_stage

    saved: dict[str, Any] = {}
    monkeypatch.setattr(train_stage, "save_stance", lambda model, path, config, inputs: saved.update(config))
    monkeypatch.setattr(train_stage, "write_json", lambda path, data: None)
    monkeypatch.setattr(train_stage, "train", lambda settings, examples: (None, {"macro_f1": None,
                                                                                 "checklist": {}}))
    monkeypatch.chdir(tmp_path)
    tiny_project(tmp_path)
    train_stage.main(load_config(ROOT / "configs" / "default.yaml", TINY_OVERRIDES))
    assert list(saved) == ["stance"] and set(saved["stance"]) == set(TRAINING_KEYS)
    json.dumps(saved)  # JSON-able
