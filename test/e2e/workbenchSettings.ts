/** User settings for a code-server window that SLM Lab's e2e tests and `npm start` open. */

/** A quiet workbench: no welcome page, tips, telemetry, update or AI prompts over the views under test. */
export const quietWorkbenchSettings: Readonly<Record<string, unknown>> = {
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "workbench.enableExperiments": false,
  "workbench.welcomePage.walkthroughs.openOnInstall": false,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "security.workspace.trust.enabled": false,
  "chat.disableAIFeatures": true,
  "chat.commandCenter.enabled": false,
  "window.commandCenter": false,
  "workbench.secondarySideBar.defaultVisibility": "hidden",
};

/** SLM Lab pointed at one models folder (and, for deterministic tests, not at the user's Hugging Face cache). */
export function slmLabSettings(modelsDirectory: string, options: { scanHuggingFaceCache: boolean; threads?: number }): Record<string, unknown> {
  return {
    "slmLab.modelsDirectory": modelsDirectory,
    "slmLab.scanHuggingFaceCache": options.scanHuggingFaceCache,
    ...(options.threads === undefined ? {} : { "slmLab.threads": options.threads }),
  };
}
