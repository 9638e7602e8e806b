"""pytest plugin: run the reference's end-to-end suite against our binary.

Loaded with `-p conftest_shim`. It points `sys.executable` at
tests/e2e/python-shim (so `python -m supervisor.supervisord` starts ours)
and marks the tests that need a part not built yet as expected failures,
naming that part. Remove an entry when its part lands.
"""
import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))

# test name -> the part it needs (an issue of ours)
NOT_YET = {}


def pytest_configure(config):
    sys.executable = os.path.join(HERE, "python-shim")


def pytest_collection_modifyitems(config, items):
    for item in items:
        reason = NOT_YET.get(item.name)
        if reason:
            # Not run: with a live daemon, a missing part shows up as a 30 s
            # pexpect timeout, which would make the suite slow for nothing.
            item.add_marker(pytest.mark.xfail(reason="needs " + reason, run=False))
