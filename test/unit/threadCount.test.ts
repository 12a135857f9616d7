import assert from "node:assert/strict";
import { test } from "node:test";
import { physicalCoreCount, physicalCoresInCpuinfo, threadsFromSetting } from "../../src/core/runtime/threadCount";

/** /proc/cpuinfo blocks, one per logical CPU, with the fields the count reads. */
function cpuinfo(cpus: readonly { readonly physical: number; readonly core: number }[]): string {
  return cpus.map((cpu, index) => `processor\t: ${index}\nmodel name\t: Test CPU\nphysical id\t: ${cpu.physical}\nsiblings\t: ${cpus.length}\ncore id\t\t: ${cpu.core}\n`).join("\n");
}

test("physical cores: hyper-threads of one core count once, cores of two sockets apart", () => {
  const smt = cpuinfo([{ physical: 0, core: 0 }, { physical: 0, core: 1 }, { physical: 0, core: 0 }, { physical: 0, core: 1 }]);
  assert.equal(physicalCoresInCpuinfo(smt, 4), 2);
  const twoSockets = cpuinfo([{ physical: 0, core: 0 }, { physical: 1, core: 0 }]);
  assert.equal(physicalCoresInCpuinfo(twoSockets, 2), 2);
});

test("physical cores: without core ids (some ARM and VM kernels) the logical CPUs; never more than them", () => {
  assert.equal(physicalCoresInCpuinfo("processor\t: 0\nBogoMIPS\t: 50.00\n\nprocessor\t: 1\nBogoMIPS\t: 50.00\n", 2), 2);
  assert.equal(physicalCoresInCpuinfo(cpuinfo([{ physical: 0, core: 0 }, { physical: 0, core: 1 }, { physical: 0, core: 2 }]), 2), 2);
});

test("a setting of 0 means this machine's physical cores; any other is taken as it is", () => {
  assert.equal(threadsFromSetting(0), physicalCoreCount());
  assert.ok(physicalCoreCount() >= 1);
  assert.equal(threadsFromSetting(3), 3);
});
