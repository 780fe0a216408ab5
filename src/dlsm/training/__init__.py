"""Training: the inner loop (:func:`fit`), the engine (:class:`Trainer`), optimizers, incremental training,
and the run session that checkpoints and resumes. See each module's docstring."""

from dlsm.training.engine import EpochBatches, Trainer, count_parameters, offset_progress
from dlsm.training.incremental import Generation, IncrementalLog, train_incremental
from dlsm.training.loop import FitLog, fit
from dlsm.training.optim import OPTIMIZERS, SCHEDULES, OptimizerName, ScheduleName, make_optimizer, make_schedule
from dlsm.training.session import RunInterrupted, RunSession, current_session, load_training_checkpoint

__all__ = [
    "OPTIMIZERS", "SCHEDULES", "EpochBatches", "FitLog", "Generation", "IncrementalLog", "OptimizerName",
    "RunInterrupted", "RunSession", "ScheduleName", "Trainer", "count_parameters", "current_session", "fit",
    "load_training_checkpoint", "make_optimizer", "make_schedule", "offset_progress", "train_incremental",
]
