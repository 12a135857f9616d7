/**
 * Every command, view and setting id that SLM Lab contributes, defined once.
 * `package.json` is the source of truth; test/unit/contributionIds.test.ts checks that this module agrees with it.
 */

export const CommandId = {
  downloadModel: "slmLab.downloadModel",
  convertToGguf: "slmLab.convertToGguf",
  quantizeModel: "slmLab.quantizeModel",
  compareQuantizations: "slmLab.compareQuantizations",
  benchmarkModel: "slmLab.benchmarkModel",
  toggleInlineCompletions: "slmLab.toggleInlineCompletions",
  selectCompletionModel: "slmLab.selectCompletionModel",
  showCompletionMenu: "slmLab.showCompletionMenu",
  setCompletionApiKey: "slmLab.setCompletionApiKey",
  evaluateCompletionQuality: "slmLab.evaluateCompletionQuality",
  showModelInfo: "slmLab.showModelInfo",
  revealModel: "slmLab.revealModel",
  deleteModel: "slmLab.deleteModel",
  refreshModels: "slmLab.refreshModels",
  openModelsDirectory: "slmLab.openModelsDirectory",
  signInToHuggingFace: "slmLab.signInToHuggingFace",
  searchHub: "slmLab.searchHub",
  loadMoreHubResults: "slmLab.loadMoreHubResults",
  clearHubSearch: "slmLab.clearHubSearch",
  showHubModelDetails: "slmLab.showHubModelDetails",
  addToComparison: "slmLab.addToComparison",
  compareModels: "slmLab.compareModels",
} as const;
export type CommandId = (typeof CommandId)[keyof typeof CommandId];

export const ViewContainerId = { slmLab: "slmLab" } as const;

export const ViewId = {
  catalog: "slmLab.catalog",
  myModels: "slmLab.myModels",
} as const;
export type ViewId = (typeof ViewId)[keyof typeof ViewId];

/** Tree item `contextValue`s used by `when` clauses in package.json menus. */
export const TreeItemContext = {
  model: "slmLab.model",
  deletableModel: "slmLab.model.deletable",
  group: "slmLab.group",
  catalogEntry: "slmLab.catalogEntry",
  downloadableCatalogEntry: "slmLab.catalogEntry.downloadable",
  hubSearch: "slmLab.hubSearch",
  hubResult: "slmLab.hubResult",
} as const;

/** Setting keys, without the `slmLab.` section prefix. */
export const SettingKey = {
  modelsDirectory: "modelsDirectory",
  scanHuggingFaceCache: "scanHuggingFaceCache",
  hubEndpoint: "hubEndpoint",
  threads: "threads",
  gpuLayers: "gpuLayers",
  completionEnabled: "completion.enabled",
  completionModel: "completion.model",
  completionEngine: "completion.engine",
  completionEndpoint: "completion.endpoint",
  completionDebounceMs: "completion.debounceMs",
  completionMaxTokens: "completion.maxTokens",
  completionContextSize: "completion.contextSize",
  completionLanguages: "completion.languages",
  completionTimeBudgetMs: "completion.timeBudgetMs",
  completionLogPrompts: "completion.logPrompts",
  completionEndpointModel: "completion.endpointModel",
  benchPromptTokens: "bench.promptTokens",
  benchGenerateTokens: "bench.generateTokens",
  benchRepetitions: "bench.repetitions",
  benchEvalText: "bench.evalText",
} as const;
export type SettingKey = (typeof SettingKey)[keyof typeof SettingKey];

export const SETTINGS_SECTION = "slmLab";
