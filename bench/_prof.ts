import { readGgufFile, parseGgufBytes } from "../src/core/gguf/ggufReader";
const file = "/tmp/slm-lab-bench/bench-qwen2.5-1.5b-shaped-f16.gguf";
async function main(): Promise<void> {
  const t: number[] = [];
  for (let i = 0; i < 25; i++) { const s = performance.now(); await readGgufFile(file); t.push(performance.now() - s); }
  console.log("stream", t.map((x) => x.toFixed(0)).join(" "));
  const { open } = await import("node:fs/promises");
  const h = await open(file); const buf = Buffer.alloc(5_200_000); await h.read(buf, 0, buf.length, 0); await h.close();
  const t2: number[] = [];
  for (let i = 0; i < 25; i++) { const s = performance.now(); try { parseGgufBytes(buf, "x"); } catch { /* out of bounds */ } t2.push(performance.now() - s); }
  console.log("bytes ", t2.map((x) => x.toFixed(0)).join(" "));
}
void main();
