r"""How many BLAS threads a solve uses: what helps, within the user's limits.

A solve runs its products with ``X`` on BLAS. Threads help a product only
when it is large enough to pay for starting and synchronising them, and
only on cores nobody else is using: OpenBLAS threads spin while they wait,
so on a busy machine a second thread makes a fit several times *slower*
(the developer notes give the measurements). :func:`blas_threads` therefore
picks

.. math::

    n = \min\Bigl(n_{\text{user}},\;
          \max\bigl(1, \lfloor w / w_1 \rfloor\bigr),\;
          \max\bigl(1, c - \lfloor \ell - 1 \rceil\bigr)\Bigr),

with :math:`n_{\text{user}}` the BLAS pools' current setting (the
default, or the user's own ``threadpool_limits``: never raised),
:math:`w` the multiply-adds of one product with the data
(``problem.product_work``), :math:`w_1 =` :data:`WORK_PER_THREAD`,
:math:`c` the cores this process may run on and :math:`\ell` the one-minute
load average (the other runnable processes, this one's thread excluded).
When :math:`n` is below the current setting the pools are limited to
:math:`n` for the solve, and restored after it.

Limits nest and overlap correctly across threads: the first solve to limit
owns the limit and restores, in its own thread, the setting it found; solves
that overlap it join the limit (they may lower it, never raise it) and
restore nothing. Fits that overlap in threads (a ``GridSearchCV`` with a
threading backend) therefore never leave the process changed, whatever
order they end in, and a fit inside a user's own ``threadpool_limits``
block restores that block's setting.

The thread pools are found once per process (threadpoolctl scans the loaded
libraries, about a millisecond): libraries loaded after the first fit are
found at the first fit after they appear.
"""

import os
import sys
import threading
from contextlib import contextmanager

from threadpoolctl import ThreadpoolController

# Multiply-adds per product per thread: a product below twice this runs on
# one thread (a dense 20,000 x 50 product with 5 outputs is 5e6).
WORK_PER_THREAD = 4e6

_lock = threading.Lock()
_state = {"limiter": None, "limit": None, "original": None, "controller": None,
          "n_modules": -1}


def _controller():
    # A rescan when modules were imported since the last one (a new library
    # may have come with them); otherwise the cached pools.
    if _state["controller"] is None or len(sys.modules) != _state["n_modules"]:
        _state["controller"] = ThreadpoolController()
        _state["n_modules"] = len(sys.modules)
    return _state["controller"]


def _blas_setting(controller):
    """The BLAS pools' current number of threads (the smallest), or None.

    The smallest: a limit is applied to every pool, and must raise none.
    """
    pools = controller.select(user_api="blas").lib_controllers
    return min((pool.num_threads for pool in pools), default=None)


def free_cores():
    """Cores this process may use that no other runnable process is using."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        cores = os.cpu_count() or 1
    try:
        others = max(0.0, os.getloadavg()[0] - 1.0)
    except (AttributeError, OSError):  # no load average (Windows)
        others = 0.0
    return max(1, cores - int(others + 0.5))


def thread_budget(work, current, free=None):
    """The number of BLAS threads for products of ``work`` multiply-adds.

    ``current`` is the pools' setting (None without a BLAS pool), ``free``
    the free cores (:func:`free_cores` when None).
    """
    by_size = max(1, int(work // WORK_PER_THREAD))
    if by_size == 1 or current is None or current <= 1:
        return 1
    free = free_cores() if free is None else free
    return max(1, min(current, by_size, free))


@contextmanager
def limit_blas_threads(n_threads):
    """Limit the BLAS pools to ``n_threads`` (at most their setting) for the block.

    The first block to limit *owns* the limit and restores the setting it
    found when it ends, in its own thread; blocks that start while it is in
    place join it (and may lower it, never raise it) but restore nothing.
    OpenBLAS (0.3.30, pthreads) does not always take a setting made from a
    thread other than the one that made the limit, so restoring from the
    last block to end, whichever thread that is, could leave the process
    limited; a block that outlives the owner runs on at the restored
    setting.
    """
    with _lock:
        owner = _state["limiter"] is None
        if owner:
            controller = _controller()
            # Read before limiting (threadpoolctl's get_original_num_threads
            # warns when the pools differ).
            _state["original"] = _blas_setting(controller)
            limiter = controller.limit(limits=n_threads, user_api="blas")
            _state["limiter"], _state["limit"] = limiter, n_threads
        elif n_threads < _state["limit"]:
            # A joining solve wants fewer: lower, never raise, the limit (the
            # owner restores the original setting).
            _controller().limit(limits=n_threads, user_api="blas")
            _state["limit"] = n_threads
    try:
        yield
    finally:
        with _lock:
            if owner:
                _state["limiter"].restore_original_limits()
                _state["limiter"] = _state["limit"] = _state["original"] = None


def single_blas_thread():
    """One BLAS thread for the block (:func:`limit_blas_threads` with 1)."""
    return limit_blas_threads(1)


@contextmanager
def blas_threads(work):
    """The BLAS threads of a solve whose products cost ``work`` multiply-adds.

    :func:`thread_budget` of the pools' current setting: the pools are
    limited for the block when that is fewer, and left alone otherwise.
    """
    if work < 2 * WORK_PER_THREAD:
        # One thread whatever the setting: no need to read it.
        with limit_blas_threads(1):
            yield
        return
    with _lock:
        limited = _state["limiter"] is not None
        # While another solve holds a limit, the setting to budget from is
        # the one its owner found, and this solve joins the limit.
        current = _state["original"] if limited else _blas_setting(_controller())
    n_threads = thread_budget(work, current)
    if not limited and (current is None or n_threads >= current):
        yield
        return
    with limit_blas_threads(n_threads):
        yield
