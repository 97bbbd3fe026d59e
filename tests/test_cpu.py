"""pipeline.cpu: the numeric libraries' instruction sets are pinned so artifacts match across machines."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipeline.cpu import PINNED, cpu_flags, pin_instruction_sets

AVX2 = frozenset({"fpu", "sse2", "avx", "avx2", "fma", "avx512f"})


def test_pins_every_switch_on_an_avx2_machine():
    env: dict[str, str] = {}
    added = pin_instruction_sets(env, flags=AVX2, machine="x86_64", loaded=())
    assert env == PINNED and added == PINNED
    assert env["TOMOTOPY_ISA"] == "avx2" and env["OPENBLAS_CORETYPE"] == "Haswell"


def test_leaves_a_users_setting_alone():
    env = {"TOMOTOPY_ISA": "sse2", "PATH": "/bin"}
    added = pin_instruction_sets(env, flags=AVX2, machine="AMD64", loaded=())
    assert env["TOMOTOPY_ISA"] == "sse2" and "TOMOTOPY_ISA" not in added
    assert env["OPENBLAS_CORETYPE"] == "Haswell" and env["PATH"] == "/bin"


@pytest.mark.parametrize(("flags", "machine"), [
    (frozenset({"sse2", "avx"}), "x86_64"),        # no AVX2: a Haswell kernel would not run
    (frozenset({"avx2"}), "x86_64"),               # AVX2 without FMA
    (AVX2, "aarch64"),                             # another architecture
    (frozenset(), "x86_64"),                       # flags unreadable
])
def test_sets_nothing_where_the_avx2_level_is_not_there(flags, machine):
    env: dict[str, str] = {}
    assert pin_instruction_sets(env, flags=flags, machine=machine, loaded=()) == {} and env == {}


def test_a_library_loaded_before_pipeline_keeps_its_path_in_the_workers_too():
    # NumPy already chose its path in this process: its switches would reach only the workers
    env: dict[str, str] = {}
    added = pin_instruction_sets(env, flags=AVX2, machine="x86_64", loaded={"numpy"})
    assert "OPENBLAS_CORETYPE" not in env and "NPY_DISABLE_CPU_FEATURES" not in env
    assert added["TOMOTOPY_ISA"] == "avx2" and "MKL_CBWR" in added


def test_cpu_flags_reads_the_first_flags_line(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(str(info)) == {"fpu", "avx2", "fma"}
    assert cpu_flags(str(tmp_path / "missing")) == frozenset()


@pytest.mark.skipif(not cpu_flags() >= {"avx2", "fma"}, reason="this CPU has no AVX2/FMA")
def test_importing_pipeline_first_pins_tomotopy_and_openblas():
    code = ("import os, pipeline, tomotopy, numpy; "
            "print(tomotopy.isa, os.environ['OPENBLAS_CORETYPE'], os.environ['NPY_DISABLE_CPU_FEATURES'])")
    env = {k: v for k, v in __import__("os").environ.items() if k not in PINNED}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split()[:2] == ["avx2", "Haswell"]
