#!/usr/bin/env python3
"""Run test_gpu.py for CTest (python_gpu): exit 77 (skipped) when PyTorch or a CUDA device is missing; once
both are present, every test must run and pass: a skip, or nothing collected, is a failure."""
import os
import sys

try:
    import torch
except ImportError:
    print("python_gpu: skipped: PyTorch is not installed for", sys.executable)
    sys.exit(77)
if not torch.cuda.is_available():
    print("python_gpu: skipped: no CUDA device")
    sys.exit(77)

try:
    import pytest
except ImportError:
    print("python_gpu: skipped: pytest is not installed for", sys.executable, "(pip install pytest)")
    sys.exit(77)


class Count:
    def __init__(self):
        self.outcomes = {"passed": 0, "failed": 0, "skipped": 0}

    def pytest_runtest_logreport(self, report):
        if report.when == "call" or report.outcome != "passed":
            self.outcomes[report.outcome] = self.outcomes.get(report.outcome, 0) + 1


here = os.path.dirname(os.path.abspath(__file__))
c = Count()
rc = pytest.main(["-q", "-p", "no:cacheprovider", os.path.join(here, "test_gpu.py")] + sys.argv[1:], plugins=[c])
print("python_gpu:", c.outcomes)
if rc != 0:
    sys.exit(1)
if c.outcomes["passed"] == 0 or c.outcomes["skipped"]:
    print("python_gpu: FAIL: with PyTorch and a GPU present every test must run", file=sys.stderr)
    sys.exit(1)
