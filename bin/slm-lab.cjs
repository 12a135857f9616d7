#!/usr/bin/env node
"use strict";
// Entry of the `slm-lab` command: runs the bundled CLI (built by `npm install` / `npm run build`).
const path = require("node:path");
const fs = require("node:fs");
const cli = path.join(__dirname, "..", "dist", "cli.js");
if (!fs.existsSync(cli)) {
  process.stderr.write("slm-lab: the CLI is not built yet; run `npm run build` in " + path.dirname(__dirname) + "\n");
  process.exit(2);
}
require(cli);
