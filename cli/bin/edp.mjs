#!/usr/bin/env node
// The `edp` executable: runs the TypeScript source through tsx, so a fresh clone works after `npm install`
// with no build step.
import { register } from "tsx/esm/api";

register();
await import("../src/main.ts");
