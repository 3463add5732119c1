"""Models: parameters and rows to raw predictions, and back.

:class:`Model` is the protocol (:mod:`skdiv._model._base`), with the
:class:`HessianOperator` that models and solvers share;
:class:`LinearModel` the first implementation (:mod:`skdiv._model._linear`),
with its change of variables (:mod:`skdiv._model._coordinates`), the rows
its Hessian products use (:mod:`skdiv._model._hessian_rows`) and its
row-block kernels (:mod:`skdiv._model._kernels`); :class:`MLPModel` the
second (:mod:`skdiv._model._mlp`), a network behind the same objectives.
"""

from ._base import HessianOperator, Model
from ._coordinates import ChangeOfVariables, choose_change_of_variables
from ._linear import LinearModel
from ._mlp import MLPModel, glorot_uniform

__all__ = [
    "ChangeOfVariables",
    "HessianOperator",
    "LinearModel",
    "MLPModel",
    "Model",
    "choose_change_of_variables",
    "glorot_uniform",
]
