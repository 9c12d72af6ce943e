export { generateAll } from './generate.js';
export { writeGeneratedFiles, findDrift, GENERATOR_OWNED_FOLDERS } from './write-files.js';
export type { FileDrift } from './write-files.js';
export { reviewSummary, filesFromGenerated, filesAtRevision, generatedPathsAtRevision } from './review-summary.js';
export { validationSteps, checkGenerated } from './check.js';
