export { runExperiment, judgeExperiment, EXPERIMENT_SCRIPT, MIN_RUNS_PER_ARM, MAX_RUNS_PER_ARM } from './run.js';
export type { ExperimentOptions, ExperimentResult, ComparedMetric, ArmFigures } from './run.js';
export { parseOptimisation, planFor, interleavedOrder, ExperimentOptionError, OPTIMISATION_NAMES, WORKLOADS, ARMS } from './optimisations.js';
export type { Arm, Optimisation, OptimisationPlan, Workload, ArmSettings } from './optimisations.js';
export { formatExperiment, describeMetric, writeExperimentJson, recordExperiment } from './report.js';
export type { ResultsFile } from './report.js';
