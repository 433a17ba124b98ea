"""Jobs: the record and its state machine, intake, the runner, polling, progress, notices,
the fair queue and the delivery interface."""
