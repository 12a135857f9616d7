import { parseGgufBytes } from "../src/core/gguf/ggufReader";
const file = "/tmp/slm-lab-bench/bench-qwen2.5-1.5b-shaped-f16.gguf";
async function main(): Promise<void> {
  const { open } = await import("node:fs/promises");
  const h = await open(file); const buf = Buffer.alloc(5_200_000); await h.read(buf, 0, buf.length, 0); await h.close();
  for (let i = 0; i < 40; i++) { try { parseGgufBytes(buf, "x"); } catch { /* out of bounds */ } }
}
void main();
