// `@dptrain/model/keras`: a separate entry, so only the commands that export load tfjs-layers.
export { checkKerasExportable, toLayersModel } from './layers-model.js';
export type { NamedTensor } from './layers-model.js';
export { layersModelFiles } from './model-files.js';
export type { LayersModelFiles } from './model-files.js';
