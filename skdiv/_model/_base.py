"""The model protocol, and the Hessian operator that models and solvers share.

A model maps a flat parameter vector and rows ``X`` to raw predictions
(:meth:`Model.forward`) and pulls a gradient on the raw predictions back to
the parameters (:meth:`Model.pullback`). It returns *sums* over its rows,
neither normalised by the sample weights nor penalised: the adapter
(:mod:`skdiv._adapter`) does both, in one place, for every model.
"""

import numpy as np


class HessianOperator:
    """A symmetric linear operator on the flat parameter vector.

    What second-order solvers see of a Hessian: :meth:`matvec`, the
    :meth:`diagonal` when it is known cheaply (the Jacobi preconditioner of
    conjugate gradients; None otherwise), the precision products are
    computed in (:attr:`dtype`: float32 for products on float32 rows), and
    :attr:`forcing_floor`, how exactly a Newton system with this operator is
    worth solving (an approximate Hessian, such as a subsample's, bounds how
    good a step can be). :attr:`weight_sum` is the sum of the sample weights
    of the rows the operator sums over, when they are not all the rows (a
    subsample); None means the adapter's own normaliser. :meth:`dense` is
    the whole matrix, where the model can form it cheaply (small problems:
    a Newton step is then one Cholesky solve instead of conjugate
    gradients).

    Parameters
    ----------
    matvec : callable
        ``matvec(v) -> H v`` for a flat ``v`` of shape ``(n_params,)``.
    diagonal : callable or None, default=None
        ``diagonal() -> diag(H)``, computed when asked.
    dtype : numpy dtype, default=np.float64
    forcing_floor : float, default=0.0
    weight_sum : float or None, default=None
    dense : callable or None, default=None
        ``dense() -> H`` of shape ``(n_params, n_params)``, computed when
        asked.
    dense_free : bool, default=False
        Whether :meth:`dense` costs no pass over the data (the matrix was
        summed in the pass that gave the gradient): a solver may then take
        one more, unverified, Newton step at the end for nothing.
    preconditioner : callable or None, default=None
        ``preconditioner() -> P``, an ``(n_params, n_params)`` approximation
        of ``H`` (rounded sums) in its lower triangle (LAPACK's lower
        storage: the upper one is not read), for problems where forming it
        costs too much to do at every iteration but less than many products:
        a solver factorises it when conjugate gradients need many products
        and preconditions the following solves with it.
    preconditioner_cost : float or callable, default=inf
        What :meth:`preconditioner` costs, in products (:meth:`matvec`). A
        callable is asked once, when the cost is first read: it may look at
        the data (a softmax's Hessian costs in proportion to the pairs of
        classes its rows couple).
    least_preconditioner_cost : float or None, default=None
        A lower bound of that cost known without asking, which a solver may
        compare first (None: the cost itself when it is a number, else 0).
    flat_directions : ndarray of shape (n_params, m) or None, default=None
        Orthonormal directions along which the objective is constant (a
        softmax's common shifts): the gradient has no component there, and
        a solver preconditioning by :meth:`preconditioner`, whose rounding
        does not keep its solves out of them, projects them out.
    """

    def __init__(self, matvec, *, diagonal=None, dtype=np.float64,
                 forcing_floor=0.0, weight_sum=None, dense=None, dense_free=False,
                 preconditioner=None, preconditioner_cost=np.inf,
                 least_preconditioner_cost=None, flat_directions=None):
        self._matvec = matvec
        self._diagonal = diagonal
        self._dense = dense
        self.dense_free = dense_free and dense is not None
        self._preconditioner = preconditioner
        self._preconditioner_cost = preconditioner_cost
        if least_preconditioner_cost is None:
            least_preconditioner_cost = (
                0.0 if callable(preconditioner_cost) else preconditioner_cost
            )
        self.least_preconditioner_cost = least_preconditioner_cost
        self.flat_directions = flat_directions
        self.dtype = np.dtype(dtype)
        self.forcing_floor = forcing_floor
        self.weight_sum = weight_sum

    def matvec(self, v):
        """``H v``, in :attr:`dtype`."""
        return self._matvec(v)

    # scipy.optimize's ``hessp`` convention: the operator is also callable.
    __call__ = matvec

    @property
    def has_diagonal(self):
        return self._diagonal is not None

    def diagonal(self):
        """``diag(H)``, or None when this operator does not provide it."""
        return None if self._diagonal is None else self._diagonal()

    @property
    def has_dense(self):
        return self._dense is not None

    def dense(self):
        """The Hessian as an ``(n_params, n_params)`` array, or None."""
        return None if self._dense is None else self._dense()

    @property
    def preconditioner_cost(self):
        """What :meth:`preconditioner` costs, in products (asked once)."""
        if callable(self._preconditioner_cost):
            self._preconditioner_cost = float(self._preconditioner_cost())
        return self._preconditioner_cost

    @property
    def has_preconditioner(self):
        return self._preconditioner is not None

    def preconditioner(self):
        """An approximation of the Hessian as an array (its lower triangle), or None."""
        return None if self._preconditioner is None else self._preconditioner()


class Model:
    """Base class of the models: parameters and rows to raw predictions.

    Subclasses provide :attr:`n_params`, :attr:`n_outputs`, :meth:`forward`,
    :meth:`pullback`, :meth:`loss_gradient_hessian_sums`, :meth:`penalty`,
    :meth:`penalty_hessian`, :meth:`gradient_norm` and the packing of their
    parameters. The default :meth:`loss_gradient_sums` is forward, objective,
    pull-back over all of the model's rows :attr:`X`.
    """

    X = None
    n_outputs = None

    @property
    def n_params(self):
        raise NotImplementedError

    @property
    def product_work(self):
        """Multiply-adds of one dense BLAS product with the rows (threads follow it).

        ``n_samples * n_params`` for dense rows; 0 when the products are not
        BLAS's (sparse rows, rows on Dask workers).
        """
        X = self.X
        if X is None or not isinstance(X, np.ndarray):
            return 0
        return X.shape[0] * self.n_params

    @property
    def value_precision(self):
        """The relative rounding of the values computed from the rows.

        Their dtype's machine epsilon (float32 data: 1.2e-7), float64's for
        anything else. Solvers then tell a change of the objective from its
        rounding (:func:`skdiv._solvers.newton_cg`).
        """
        dtype = getattr(self.X, "dtype", None)
        if dtype is None or not np.issubdtype(dtype, np.floating):
            return float(np.finfo(np.float64).eps)
        return float(np.finfo(dtype).eps)

    def forward(self, params, X=None):
        """Raw predictions at ``params`` for rows ``X`` (the model's own if None)."""
        raise NotImplementedError

    def pullback(self, params, grad_raw, X=None):
        """The gradient on raw predictions, pulled back to the parameters.

        :math:`\\sum_i J_i^\\top g_i` with :math:`J_i` the Jacobian of the
        raw prediction of row ``i`` with respect to the parameters.
        """
        raise NotImplementedError

    def loss_gradient_sums(self, objective, y, sample_weight, params):
        """Weighted loss sum over the rows and its gradient in the parameters."""
        raw = self.forward(params)
        loss, grad_raw = objective.loss_gradient(y, raw, sample_weight)
        return float(loss.sum()), self.pullback(params, grad_raw)

    def loss_gradient_hessian_sums(self, objective, y, sample_weight, params):
        """:meth:`loss_gradient_sums` and the :class:`HessianOperator` of the sum."""
        raise NotImplementedError

    def penalty(self, params):
        """``(value, gradient)`` of the penalty, before its strength ``alpha``."""
        raise NotImplementedError

    def penalty_hessian(self, v):
        """The penalty's Hessian (before ``alpha``) applied to ``v``."""
        raise NotImplementedError

    def penalty_diagonal(self):
        """The penalty's Hessian diagonal, or None when not cheaply known."""
        return None

    def penalty_dense(self):
        """The penalty's Hessian as a matrix (models that form Hessians whole)."""
        raise NotImplementedError

    def penalty_entries(self):
        """:meth:`penalty_dense`'s nonzeros as ``(flat index, value)``, C order.

        Models with a structured penalty build them without the matrix.
        """
        matrix = self.penalty_dense()
        index = np.flatnonzero(matrix)
        return index, matrix.ravel()[index]

    def flat_directions(self, penalised):
        """Orthonormal directions along which the loss does not change.

        Columns of an ``(n_params, r)`` array (``r`` may be 0): moving the
        parameters along them changes no raw prediction (a softmax's common
        shift), so the loss's gradient has no component there and its
        Hessian is zero there; ``penalised`` says whether the penalty is on,
        which may make some of them curved.
        """
        return np.zeros((self.n_params, 0))

    def gradient_norm(self, grad):
        """The solvers' stopping measure of a gradient in the parameters."""
        return float(np.max(np.abs(grad), initial=0.0))
