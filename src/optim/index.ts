export { Optimizer, Sgd, Adam, sgd, adam, adamw, type OptimizerType, type SgdOptions, type AdamOptions } from './optimizers.js';
export { constantSchedule, stepSchedule, polynomialSchedule, cosineSchedule, type Schedule } from './schedules.js';
export { saveCheckpoint, loadCheckpoint, type CheckpointState } from './checkpoint.js';
