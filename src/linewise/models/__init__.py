"""Risk models: scorecard and gradient boosting, calibration, evaluation, artefacts."""
