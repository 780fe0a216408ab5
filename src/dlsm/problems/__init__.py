"""Forward models and data: functions to minimise, data sets, generators (no learning)."""
