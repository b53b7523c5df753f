"""What numba's compiler vectorises on this machine: the kernel's table-lookup pattern (issue 17).

The month step reads per-group constants (``table[group[i]]``) for every customer. A
kernel written for vector units needs those reads as vector gathers. This compiles the
pattern (and the same loop reading ``x`` directly) for this machine's CPU and, in a child
process, for ``skylake-avx512`` (a target on which LLVM is more willing to gather), and
prints the vector registers and gather instructions in each, with the loop's time.

    .venv/bin/python benchmarks/probe_vector.py

Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time


def probe() -> None:
    import llvmlite.binding as llvm
    import numba
    import numpy as np
    from numba import njit

    @njit(cache=False)
    def lookup(table, idx, x, out):
        for i in range(x.shape[0]):
            out[i] = table[idx[i]] * x[i]

    @njit(cache=False)
    def direct(table, idx, x, out):
        for i in range(x.shape[0]):
            out[i] = x[i] * x[i]

    n = 1 << 16
    rng = np.random.default_rng(1)
    table = rng.random(64)
    idx = rng.integers(0, 64, n).astype(np.uint64)  # unsigned: no negative-index test
    x = rng.random(n)
    out = np.empty(n)
    cpu = os.environ.get("NUMBA_CPU_NAME") or f"host ({llvm.get_host_cpu_name()})"
    for name, f in (("table[idx[i]] * x[i]", lookup), ("x[i] * x[i]", direct)):
        f(table, idx, x, out)
        asm = next(iter(f.inspect_asm().values()))
        best = float("inf")
        for _ in range(50):
            t = time.perf_counter()
            f(table, idx, x, out)
            best = min(best, time.perf_counter() - t)
        print(f"{cpu:>24}  {name:22} gathers {asm.count('gather'):3}  zmm {asm.count('zmm'):4}  "
              f"ymm {asm.count('ymm'):4}  {1e9 * best / n:5.2f} ns an element  "
              f"(numba {numba.__version__}, LLVM {'.'.join(map(str, llvm.llvm_version_info))})")


def main() -> None:
    if "--child" in sys.argv:
        probe()
        return
    for cpu in ("", "skylake-avx512"):
        env = {**os.environ}
        env.pop("NUMBA_CPU_NAME", None)
        if cpu:
            env["NUMBA_CPU_NAME"] = cpu
        subprocess.run([sys.executable, __file__, "--child"], env=env, check=True)


if __name__ == "__main__":
    main()
