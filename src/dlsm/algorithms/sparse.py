"""Sparse recovery, one import: thresholding, ISTA/FISTA, AMP, VAMP, state evolution, OMP and the genie bound.

The pieces live in small modules (``thresholding``, ``ista``, ``amp``, ``vamp``, ``state_evolution``, ``vamp_se``,
``omp``);
this module re-exports their public names for the labs, the notebook and deep unfolding (lecture 6).
"""

from dlsm.algorithms.amp import amp, column_scale
from dlsm.algorithms.ista import fista, ista, lasso_objective, lipschitz
from dlsm.algorithms.omp import genie_estimate, omp
from dlsm.algorithms.state_evolution import (
    bg_mse,
    l1_phase_transition,
    se_fixed_point_mse,
    se_fixed_point_nmse_db,
    soft_mse,
    state_evolution,
    tuned_soft_alpha,
)
from dlsm.algorithms.thresholding import bg_log_odds, bg_mmse_denoiser, hard_threshold, soft_threshold
from dlsm.algorithms.vamp import SVD, lmmse_stage, vamp
from dlsm.algorithms.vamp_se import vamp_se_nmse_db, vamp_state_evolution

__all__ = [
    "SVD", "amp", "bg_log_odds", "bg_mmse_denoiser", "bg_mse", "column_scale", "fista", "genie_estimate",
    "hard_threshold", "ista", "l1_phase_transition", "lasso_objective", "lipschitz", "omp", "se_fixed_point_mse",
    "se_fixed_point_nmse_db", "soft_mse", "soft_threshold", "state_evolution", "tuned_soft_alpha", "lmmse_stage",
    "vamp", "vamp_se_nmse_db", "vamp_state_evolution",
]
