// The remote completion engines against a real HTTP server in the test that speaks each protocol (and misbehaves:
// HTTP 500, garbage, a hang, nothing listening), and, when it has been built (npx tsx bench/llamaCppTools.ts
// llama-server), a real llama-server compared token for token with our local engine on the same prompt layout.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { CancelledError, UserError } from "../../src/core/errors";
import type { CompletionRequest } from "../../src/core/runtime/completionEngine";
import { createCompletionEngine } from "../../src/core/runtime/engineFactory";
import { LocalCompletionEngine } from "../../src/core/runtime/localEngine";
import { llamaCppToolPath } from "../../bench/llamaCppTools";
import { ensureFixtureModel } from "../fixtures/fixtureModels";

interface Seen {
  readonly path: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: Record<string, unknown>;
}

let server: Server;
let base = "";
const seen: Seen[] = [];
const hanging = new Set<ServerResponse>();

function reply(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(typeof body === "string" ? body : JSON.stringify(body));
}

/** Routes: /ok/… speaks the protocols; /fail500/…, /garbage/…, /hang/… misbehave on every path. */
function handle(request: IncomingMessage, response: ServerResponse, text: string): void {
  const url = request.url ?? "";
  const body = (text === "" ? {} : JSON.parse(text)) as Record<string, unknown>;
  seen.push({ path: url, headers: request.headers, body });
  if (url.startsWith("/fail500/")) {
    reply(response, 500, { error: { code: 500, message: "model failed to load" } });
    return;
  }
  if (url.startsWith("/garbage/")) {
    reply(response, 200, "<html>not an API</html>");
    return;
  }
  if (url.startsWith("/wrongshape/")) {
    reply(response, 200, { hello: "world" });
    return;
  }
  if (url.startsWith("/hang/")) {
    hanging.add(response);
    return;
  }
  if (url === "/ok/infill") {
    reply(response, 200, {
      content: " + 1;",
      tokens: [488, 220, 16, 26],
      tokens_predicted: 4,
      tokens_evaluated: 120,
      stop_type: "limit",
      timings: { prompt_n: 7, prompt_ms: 12.5, predicted_n: 4, predicted_ms: 20 },
    });
    return;
  }
  if (url === "/ok/v1/completions") {
    reply(response, 200, { choices: [{ text: "total += 1;", finish_reason: "stop" }], usage: { prompt_tokens: 50, completion_tokens: 5 } });
    return;
  }
  if (url === "/ok/api/generate") {
    reply(response, 200, { response: "return x;", done: true, done_reason: "length", prompt_eval_count: 33, eval_count: 4, prompt_eval_duration: 5_000_000 });
    return;
  }
  reply(response, 404, { error: "not found" });
}

before(async () => {
  server = createServer((request, response) => {
    let text = "";
    request.setEncoding("utf8");
    request.on("data", (chunk: string) => { text += chunk; });
    request.on("end", () => { handle(request, response, text); });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  for (const response of hanging) response.destroy();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
});

const REQUEST: CompletionRequest = {
  prefix: "function add(x) {\n  return x",
  suffix: "\n}\n",
  filePath: "src/add.js",
  languageId: "javascript",
  extraContext: [{ filePath: "src/util.js", text: "export const one = 1;\n" }],
  mode: "single-line",
  maxTokens: 16,
  timeBudgetMs: 500,
};

function never(): AbortSignal {
  return new AbortController().signal;
}

test("llama-server: /infill with input_prefix/suffix/extra and cache_prompt; timings from the answer", async () => {
  const engine = createCompletionEngine({ kind: "llama-server", endpoint: `${base}/ok` });
  const result = await engine.complete(REQUEST, never());
  assert.equal(result.text, " + 1;");
  assert.deepEqual(result.tokens, [488, 220, 16, 26]);
  assert.equal(result.stoppedBy, "max-tokens");
  assert.equal(result.timings.promptTokens, 120);
  assert.equal(result.timings.evaluatedPromptTokens, 7);
  const sent = seen.at(-1);
  assert.equal(sent?.path, "/ok/infill");
  assert.equal(sent.body["input_prefix"], REQUEST.prefix);
  assert.equal(sent.body["input_suffix"], REQUEST.suffix);
  assert.deepEqual(sent.body["input_extra"], [{ filename: "src/util.js", text: "export const one = 1;\n" }]);
  assert.equal(sent.body["cache_prompt"], true);
  assert.equal(sent.body["n_predict"], 16);
  assert.equal(sent.body["t_max_predict_ms"], 500);
  assert.equal(sent.headers.authorization, undefined);
});

test("OpenAI-compatible: /v1/completions with prompt, suffix, model and a bearer key", async () => {
  const engine = createCompletionEngine({ kind: "openai", endpoint: `${base}/ok`, model: "qwen2.5-coder-1.5b", apiKey: "sk-test" });
  const result = await engine.complete(REQUEST, never());
  assert.equal(result.text, "total += 1;");
  assert.equal(result.timings.promptTokens, 50);
  assert.ok(result.stopSequences.includes("<|fim_middle|>"), "stop sequences of the family the model name suggests");
  const sent = seen.at(-1);
  assert.equal(sent?.path, "/ok/v1/completions");
  assert.equal(sent.body["prompt"], REQUEST.prefix);
  assert.equal(sent.body["suffix"], REQUEST.suffix);
  assert.equal(sent.body["model"], "qwen2.5-coder-1.5b");
  assert.equal(sent.body["max_tokens"], 16);
  assert.equal(sent.headers.authorization, "Bearer sk-test");

  // A base URL that already ends in /v1 is not doubled.
  await createCompletionEngine({ kind: "openai", endpoint: `${base}/ok/v1`, model: "m" }).complete(REQUEST, never());
  assert.equal(seen.at(-1)?.path, "/ok/v1/completions");
});

test("Ollama: /api/generate with prompt, suffix, raw false, no stream and num_predict", async () => {
  const engine = createCompletionEngine({ kind: "ollama", endpoint: `${base}/ok`, model: "qwen2.5-coder:1.5b" });
  const result = await engine.complete(REQUEST, never());
  assert.equal(result.text, "return x;");
  assert.equal(result.stoppedBy, "max-tokens");
  assert.equal(result.timings.generatedTokens, 4);
  const sent = seen.at(-1);
  assert.equal(sent?.path, "/ok/api/generate");
  assert.deepEqual(
    { prompt: sent.body["prompt"], suffix: sent.body["suffix"], raw: sent.body["raw"], stream: sent.body["stream"], model: sent.body["model"] },
    { prompt: REQUEST.prefix, suffix: REQUEST.suffix, raw: false, stream: false, model: "qwen2.5-coder:1.5b" },
  );
  assert.deepEqual(sent.body["options"], { num_predict: 16, temperature: 0 });
  assert.throws(() => createCompletionEngine({ kind: "ollama", endpoint: `${base}/ok` }), UserError);
});

/** Asserts a UserError that names the endpoint and says what to do. */
async function rejectsClearly(promise: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    assert.match(error.message, pattern);
    assert.match(error.message, /127\.0\.0\.1|localhost|not a URL/);
    assert.ok(error.action !== undefined && error.action !== "");
    return true;
  });
}

for (const kind of ["llama-server", "openai", "ollama"] as const) {
  test(`${kind}: HTTP 500, garbage, a wrong shape, a hang and a closed port are clear UserErrors`, async () => {
    const make = (endpoint: string, timeoutMs = 5000) => createCompletionEngine({ kind, endpoint, model: "qwen2.5-coder:1.5b", requestTimeoutMs: timeoutMs });
    await rejectsClearly(make(`${base}/fail500`).complete(REQUEST, never()), /HTTP 500: model failed to load/);
    await rejectsClearly(make(`${base}/garbage`).complete(REQUEST, never()), /not JSON/);
    await rejectsClearly(make(`${base}/wrongshape`).complete(REQUEST, never()), /answered without/);
    await rejectsClearly(make(`${base}/hang`, 200).complete(REQUEST, never()), /did not answer within 0\.2 s/);
    // A port nobody listens on: bind one and close it.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => { resolve(); }));
    await rejectsClearly(make(`http://127.0.0.1:${port}`).complete(REQUEST, never()), /Cannot reach .*nothing is listening there/);
    assert.throws(() => make("not a url"), UserError);
  });
}

test("aborting a request that hangs rejects with CancelledError", async () => {
  const engine = createCompletionEngine({ kind: "llama-server", endpoint: `${base}/hang` });
  const controller = new AbortController();
  const pending = engine.complete(REQUEST, controller.signal);
  setTimeout(() => { controller.abort(); }, 20);
  await assert.rejects(pending, CancelledError);
});

for (const layout of ["psm", "spm"] as const) {
  test(`a real llama-server${layout === "spm" ? " --spm-infill" : ""} and our local engine (${layout}) give the same tokens for the same prompt`, async (t) => {
    const binary = await llamaCppToolPath("llama-server");
    if (!existsSync(binary)) {
      t.skip(`llama-server is not built (npx tsx bench/llamaCppTools.ts llama-server builds it into ${binary})`);
      return;
    }
    const modelPath = await ensureFixtureModel("tiny-qwen2-coder");
    const port = 18_000 + Math.floor(Math.random() * 2000);
    const flags = ["-m", modelPath, "--host", "127.0.0.1", "--port", String(port), "-t", "2", "-tb", "2", "-c", "4096", "-fa", "on", "-np", "1", "--no-webui"];
    const child: ChildProcess = spawn(binary, layout === "spm" ? [...flags, "--spm-infill"] : flags, { stdio: ["ignore", "ignore", "pipe"] });
    let log = "";
    child.stderr?.on("data", (chunk: Buffer) => { log = (log + chunk.toString("utf8")).slice(-4000); });
    const local = new LocalCompletionEngine({ kind: "local", modelPath, threads: 2, contextSize: 4096 }, { layout });
    try {
      const endpoint = `http://127.0.0.1:${port}`;
      for (let attempt = 0; ; attempt++) {
        const health = await fetch(`${endpoint}/health`).then((response) => response.status, () => 0);
        if (health === 200) break;
        if (attempt > 600 || child.exitCode !== null) throw new Error(`llama-server did not start:\n${log}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const remote = createCompletionEngine({ kind: "llama-server", endpoint });
      // llama-server lays out "<|repo_name|>myproject\n" and "<|file_sep|>filename\n" for the current file: use the same.
      const request: CompletionRequest = { ...REQUEST, repoName: "myproject", filePath: "filename", timeBudgetMs: 60_000 };
      const theirs = await remote.complete(request, never());
      const ours = await local.complete(request, never());
      assert.equal(ours.timings.promptTokens, theirs.timings.promptTokens);
      assert.ok((theirs.tokens?.length ?? 0) > 0);
      // Ours also stops at the template's stop texts (llama-server does not know them): compare what both generated.
      const ourTokens = ours.tokens ?? [];
      assert.deepEqual(ourTokens, theirs.tokens?.slice(0, ourTokens.length));
      if (ours.stoppedBy !== "stop-sequence") assert.equal(ourTokens.length, theirs.tokens?.length);
    } finally {
      child.kill("SIGKILL");
      await local.dispose();
    }
  });
}
