r"""CNN-type variational regularizers: the regularizer, its minimiser, bilevel learning.

The regularizer (chapter 7) is a one-layer convolutional energy

.. math::
    J_\theta(x) = \sum_{j=1}^{C} \sum_i \varphi_j\big((w_j * x)_i\big), \qquad
    \varphi_j(t) = \lambda_j\Big(\sqrt{t^2 + \varepsilon_j^2} - \varepsilon_j\Big),

with small kernels :math:`w_j` (normalised, :math:`\|w_j\| = 1`, and optionally
projected to zero mean), and the Charbonnier function :math:`\varphi_j` with
learned strength :math:`\lambda_j > 0` and smoothing :math:`\varepsilon_j > 0`
(both learned on a log scale). For :math:`|t| \ll \varepsilon` the function
:math:`\varphi` is quadratic, :math:`\varphi(t)\approx \lambda t^2/(2\varepsilon)`;
for :math:`|t| \gg \varepsilon` it is :math:`\lambda(|t| - \varepsilon)`. So
:math:`\varepsilon \to 0` turns :math:`J_\theta` into a weighted
:math:`\ell^1` norm of filter responses: with :math:`w = (1,-1)/\sqrt2` it is
total variation with parameter :math:`\lambda/\sqrt2`.

The convolution uses *replicate* padding: response :math:`i` reads the pixels
:math:`x_{\operatorname{clamp}(i + t - c)}`, :math:`t = 0,\dots,k-1`, with
:math:`c = \lfloor (k-1)/2\rfloor`, so every pixel difference, including those
at the boundary, is regularized (an unpadded convolution would leave the
boundary free). The kernel is applied as a correlation; a flip of the kernel
changes nothing in the structure measures below, which are taken up to sign
and shift.

The reconstruction is the variational solution

.. math:: x_\theta(y) = \operatorname*{argmin}_x \tfrac12\|Ax-y\|^2 + J_\theta(x),

in the Euclidean norm of pixel values, computed by Nesterov's accelerated
gradient method with adaptive restart until
:math:`\|\nabla E(x)\| \le \mathrm{tol}\,\|\nabla E(0)\| = \mathrm{tol}\,\|A^\top y\|`
for every sample. Training is bilevel,
:math:`\min_\theta \frac1{KN}\sum_i \|x_\theta(y_i) - x_i\|^2`, with the
hypergradient from implicit differentiation (conjugate gradients on
Hessian-vector products at the computed minimiser) or by unrolling a fixed
number of Nesterov steps.

The subpackage is split by concern: :mod:`~learnreg.cnn.regularizer` (the
energy and its derivatives), :mod:`~learnreg.cnn.solver` (the lower level),
:mod:`~learnreg.cnn.bilevel` (the upper level) and :mod:`~learnreg.cnn.measures`
(structure measures of learned kernels); the error measures :func:`mse` and
:func:`psnr` come from :mod:`learnreg.metrics`. The chapter's experiments
(several seeds, per-channel summaries, timings) are in
:mod:`learnreg.experiments.cnn_regularizers`.

All computation runs in PyTorch (float64, CPU). This subpackage is the only
part of the package that imports torch. Randomness comes from the project's numpy
generator, passed explicitly; torch's own generator is never used.
"""

from __future__ import annotations

from ..metrics import mse, psnr
from ._common import TORCH_THREADS
from .bilevel import CNNTrainingResult, hypergradient, train
from .measures import (
    finite_difference_stencils,
    kernel_sum,
    response_quantile,
    stencil_similarity,
    top2_energy,
    tv_parameter,
)
from .regularizer import CNNRegularizer
from .solver import SolverInfo, reconstruct, solve, unrolled_reconstruction

__all__ = [
    "TORCH_THREADS",
    "CNNRegularizer",
    "SolverInfo",
    "CNNTrainingResult",
    "solve",
    "train",
    "finite_difference_stencils",
    "stencil_similarity",
    "top2_energy",
    "kernel_sum",
    "tv_parameter",
    "response_quantile",
    "mse",
    "psnr",
    "hypergradient",
    "reconstruct",
    "unrolled_reconstruction",
]

#: The chapter's experiment drivers, which live in :mod:`learnreg.experiments.cnn_regularizers`;
#: ``learnreg.cnn.<name>`` still finds them (imported on first use, so that importing
#: :mod:`learnreg.cnn` does not import the experiments).
_EXPERIMENTS = ("Run", "train_seeds", "channel_summary", "benchmark")


def __getattr__(name):
    if name in _EXPERIMENTS:
        from ..experiments import cnn_regularizers

        return getattr(cnn_regularizers, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
