export { generateAll } from './generate.js';
export { writeGeneratedFiles, findDrift, GENERATOR_OWNED_FOLDERS } from './write-files.js';
export type { FileDrift } from './write-files.js';
export { reviewSummary, filesFromGenerated, filesAtRevision, generatedPathsAtRevision, changedPanels, writePanelImages } from './review-summary.js';
export type { ChangedPanel, PanelImagesOptions } from './review-summary.js';
export { validationSteps, checkGenerated } from './check.js';
