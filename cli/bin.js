#!/usr/bin/env node
// Runs the TypeScript CLI directly on Node 22 (built-in type stripping).
import './main.ts';
