"""One BLAS thread during a solve, nested and shared correctly across threads.

Both solvers spend their time in memory-bound products with ``X`` (few
outputs) and in numpy vector work between them; on the shared 2-core
machines measured one BLAS thread was the robust choice (see the developer
notes). The limit is entered once, by the first solve of the process to
start, and lifted by the last one to finish: fits that overlap in threads
(a ``GridSearchCV`` with a threading backend, say) never leave the process
at one thread, whatever order they end in, and a fit inside a user's own
``threadpool_limits`` block restores that block's setting.

The thread pools are found once per process (threadpoolctl scans the loaded
libraries, about a millisecond): libraries loaded after the first fit are
found at the first fit after they appear.
"""

import sys
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_state = {"depth": 0, "limiter": None, "controller": None, "n_modules": -1}


def _controller():
    # A rescan when modules were imported since the last one (a new library
    # may have come with them); otherwise the cached pools.
    if _state["controller"] is None or len(sys.modules) != _state["n_modules"]:
        _state["controller"] = ThreadpoolController()
        _state["n_modules"] = len(sys.modules)
    return _state["controller"]


@contextmanager
def single_blas_thread():
    """Limit BLAS to one thread for the duration of the block (reference counted)."""
    with _lock:
        if _state["depth"] == 0:
            _state["limiter"] = _controller().limit(limits=1, user_api="blas")
        _state["depth"] += 1
    try:
        yield
    finally:
        with _lock:
            _state["depth"] -= 1
            if _state["depth"] == 0:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = None
