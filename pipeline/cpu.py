"""The same numbers on every x86-64 machine: pin the instruction sets of the numeric libraries.

NumPy, OpenBLAS, tomotopy, PyTorch and MKL each pick their fastest code path for the CPU they run on,
and the paths round differently: on a machine with AVX-512 the LDA model, the documents' topic
shares and the stance model's coefficients differ in their last bits from those built on an AVX2
machine, so a fresh clone's ``dvc repro`` would not reproduce the committed ``dvc.lock``.
:func:`pin_instruction_sets` (run by ``import pipeline``, before any of these libraries is loaded)
sets each library's documented switch to the AVX2 level, which every x86-64 server since 2013 has:

============================  ======================  =============================================
variable                      library                 value
============================  ======================  =============================================
``OPENBLAS_CORETYPE``         OpenBLAS (NumPy/SciPy)  ``Haswell``
``NPY_DISABLE_CPU_FEATURES``  NumPy's own loops       ``X86_V4 AVX512_ICL AVX512_SPR`` (no AVX-512)
``TOMOTOPY_ISA``              tomotopy                ``avx2``
``ATEN_CPU_CAPABILITY``       PyTorch                 ``avx2``
``ONEDNN_MAX_CPU_ISA``        oneDNN (PyTorch)        ``AVX2``
``MKL_CBWR``                  MKL (PyTorch)           ``AVX2``
============================  ======================  =============================================

A variable the user has set is left alone, and nothing is set on a CPU without AVX2 and FMA or on
another architecture (there the default code paths are used; artifacts may then differ from ones
built elsewhere). A library imported *before* ``pipeline`` has already chosen its path, and its
switch is then not set at all, so that worker processes take the same path as this one: code that
must reproduce the committed artifacts byte for byte imports ``pipeline`` first or runs the CLI.
"""

from __future__ import annotations

import os
import platform
import sys
from collections.abc import Collection

#: the switches and their AVX2-level values
PINNED = {
    "OPENBLAS_CORETYPE": "Haswell",
    "NPY_DISABLE_CPU_FEATURES": "X86_V4 AVX512_ICL AVX512_SPR",
    "TOMOTOPY_ISA": "avx2",
    "ATEN_CPU_CAPABILITY": "avx2",
    "ONEDNN_MAX_CPU_ISA": "AVX2",
    "MKL_CBWR": "AVX2",
}
#: the module whose import reads each switch: once it is loaded the switch would reach only child processes
READ_BY = {
    "OPENBLAS_CORETYPE": "numpy",
    "NPY_DISABLE_CPU_FEATURES": "numpy",
    "TOMOTOPY_ISA": "tomotopy",
    "ATEN_CPU_CAPABILITY": "torch",
    "ONEDNN_MAX_CPU_ISA": "torch",
    "MKL_CBWR": "torch",
}
_NEEDED_FLAGS = frozenset({"avx2", "fma"})


def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The feature flags of the first CPU in ``cpuinfo`` (empty when it cannot be read)."""
    try:
        with open(cpuinfo, encoding="ascii", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    return frozenset(line.partition(":")[2].split())
    except OSError:
        pass
    return frozenset()


def pin_instruction_sets(environ: dict[str, str] | None = None, flags: frozenset[str] | None = None,
                         machine: str | None = None, loaded: Collection[str] | None = None) -> dict[str, str]:
    """Set the switches of :data:`PINNED` that are not set yet; return those it set.

    Nothing is set unless the machine is x86-64 with AVX2 and FMA (``flags``: the CPU's flags,
    read from ``/proc/cpuinfo`` when omitted). Child processes (the stage workers) inherit the
    environment, so a switch whose library is already loaded here (``loaded``: module names,
    ``sys.modules`` when omitted) is left unset: this process has chosen its path, and the workers
    must take the same one (byte-identical results for any ``n_jobs`` and engine).
    """
    environ = os.environ if environ is None else environ
    loaded = sys.modules if loaded is None else loaded
    machine = (platform.machine() if machine is None else machine).lower()
    if machine not in {"x86_64", "amd64"}:
        return {}
    if not (cpu_flags() if flags is None else flags) >= _NEEDED_FLAGS:
        return {}
    added = {name: value for name, value in PINNED.items() if name not in environ and READ_BY[name] not in loaded}
    environ.update(added)
    return added
